#!/usr/bin/env bash
# bench/run.sh (make bench): requests per second and latency of the register's cached fact
# sheet and of searches under concurrent load, on 10,000 published entries, beside nginx
# serving the same page as a static file.
#
# It builds the binary, seeds a private register in a temporary data directory, serves it
# and nginx on free ports of 127.0.0.1, runs wrk against each, prints a table, and stops
# and removes everything it started. The register, nginx and wrk share this machine's
# processors, so the figures say what one machine does, not what a server does alone.
#
# A third server gives the scale between the two: bench/baseline, Go's HTTP server sending
# the same response (page and header) from memory, in one write as the register does, with
# no router and no middleware: the most the register could do with Go's HTTP server.
#
# The fact sheet is measured twice: as it is (Accept-Encoding: identity, wrk's default)
# and compressed (Accept-Encoding: gzip, as every browser asks), where nginx serves the
# same compressed bytes from a .gz file beside the page (gzip_static).
#
# Settings (environment): BENCH_ENTRIES (10000), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_ROUNDS (3) and BENCH_SLICE (7 s): the register and nginx take turns, a slice each
# per round, so that a change in the machine's load touches both alike; BENCH_SEARCH (20 s)
# per search; BENCH_WARMUP (3 s) before each target; BENCH_MANY and BENCH_FEW, the search
# words (one found in many entries, one in few).
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${BENCH_ENTRIES:-10000}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
SLICE=${BENCH_SLICE:-7}
SEARCH=${BENCH_SEARCH:-20}
WARMUP=${BENCH_WARMUP:-3}
MANY=${BENCH_MANY:-habitatge}
FEW=${BENCH_FEW:-soroll nocturn Gràcia}
GO=${GO:-go}
BIN=bin/registry

say() { printf '%s\n' "$*" >&2; }

# wrk and nginx come from Debian's packages; as root, install them when missing.
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		say "bench: needs ${need[*]} (Debian: apt-get install ${need[*]})"
		exit 1
	fi
	say "bench: installing ${need[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/registry-bench.XXXXXX)
chmod 711 "$work" # the private PostgreSQL runs as the postgres user and must enter it
registry_pid=
nginx_pid=
baseline_pid=
cleanup() {
	set +e
	[ -n "$baseline_pid" ] && kill "$baseline_pid" 2>/dev/null && wait "$baseline_pid" 2>/dev/null
	[ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	# TERM lets the register stop its private PostgreSQL before it exits.
	[ -n "$registry_pid" ] && kill -TERM "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	say "bench: no free port"
	exit 1
}

# wait_for URL waits up to 10 s for URL to answer.
wait_for() {
	for _ in $(seq 50); do
		curl -sf -o /dev/null "$1" && return
		sleep 0.2
	done
}

# to_ms converts wrk's durations (850.00us, 1.82ms, 2.01s, 1.50m) to milliseconds.
to_ms() {
	awk -v d="$1" 'BEGIN {
		n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.2f", n }'
}

# cpu_ticks prints the processor time (user + system, in clock ticks) used so far by the
# processes given.
cpu_ticks() {
	local total=0 pid fields
	for pid in "$@"; do
		fields=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
		total=$((total + fields))
	done
	echo "$total"
}

# measure URL ENCODING SECONDS PIDS… runs wrk asking for ENCODING (Accept-Encoding) and
# prints "requests seconds p50_ms p99_ms errors ticks": errors are socket errors and
# answers other than 2xx or 3xx; ticks the processor time that PIDS used meanwhile.
measure() {
	local url=$1 enc=$2 secs=$3 out before after
	shift 3
	before=$(cpu_ticks "$@")
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 10s --latency -H "Accept-Encoding: $enc" "$url")
	after=$(cpu_ticks "$@")
	echo "$out" >>"$work/wrk.log"
	local requests p50 p99 errors
	requests=$(awk '/requests in/ {print $1}' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	errors=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")
	echo "$requests $secs $p50 $p99 $errors $((after - before))"
}

warm() { wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -H "Accept-Encoding: $2" "$1" >/dev/null; }

say "bench: building $BIN"
$GO build -o "$BIN" ./cmd/registry
$GO build -o "$work/baseline" ./bench/baseline

say "bench: seeding $ENTRIES synthetic entries into $work/data"
seed_start=$(date +%s)
"$BIN" seed --data-dir "$work/data" --scale "$ENTRIES" >"$work/seed.log" 2>&1 || {
	cat "$work/seed.log" >&2
	exit 1
}
seed_secs=$(($(date +%s) - seed_start))

"$BIN" serve --data-dir "$work/data" --addr 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
registry_pid=$!
base=
for _ in $(seq 120); do
	base=$(sed -n 's/^registry: serving on //p' "$work/serve.out")
	[ -n "$base" ] && break
	kill -0 "$registry_pid" 2>/dev/null || break
	sleep 0.5
done
if [ -z "$base" ]; then
	say "bench: the register did not start"
	cat "$work/serve.log" >&2
	exit 1
fi
case "$base" in http://127.0.0.1:*) ;; *)
	say "bench: the register serves on $base, not on 127.0.0.1"
	exit 1
	;;
esac

# Statistics for the planner, as autovacuum would gather them soon after a bulk load.
if command -v psql >/dev/null 2>&1; then
	psql -q -h "$work/data/postgres/socket" -U postgres -d registry -c 'VACUUM ANALYZE' >/dev/null 2>&1 ||
		say "bench: VACUUM ANALYZE failed; the searches run on autovacuum's statistics"
fi

first_entry() { grep -o 'href="/ca/algorithms/[a-z0-9-]*"' | head -1 | sed 's|href="/ca/algorithms/||; s|"||'; }
slug=$(curl -sf "$base/ca/algorithms?sort=name" | first_entry) || true
[ -n "$slug" ] || slug=$(curl -sf "$base/ca/" | first_entry) || true
if [ -z "$slug" ]; then
	say "bench: found no published entry on $base/ca/algorithms"
	exit 1
fi
page="/ca/algorithms/$slug"
for _ in 1 2 3; do curl -sf -o /dev/null "$base$page"; done # built once, then cached

# nginx serves the very bytes the register sends, at the same address, compressed or not.
mkdir -p "$work/www/ca/algorithms" "$work/nginx/tmp"
curl -sf -H 'Accept-Encoding: identity' -D "$work/page.header" -o "$work/www$page" "$base$page"
curl -sf -H 'Accept-Encoding: gzip' -o "$work/www$page.gz" "$base$page"
chmod -R a+rX "$work/www"
nginx_port=$(free_port)
sed -e "s|@WORK@|$work|g" -e "s|@PORT@|$nginx_port|g" bench/nginx.conf.tmpl >"$work/nginx/nginx.conf"
"$NGINX" -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
static="http://127.0.0.1:$nginx_port$page"
wait_for "$static"
for enc in identity gzip; do
	if ! cmp -s <(curl -sf -H "Accept-Encoding: $enc" "$static") <(curl -sf -H "Accept-Encoding: $enc" "$base$page"); then
		say "bench: nginx does not serve the same page as the register ($enc)"
		exit 1
	fi
done
nginx_pids() { echo "$nginx_pid" $(pgrep -P "$nginx_pid"); }
baseline_port=$(free_port)
"$work/baseline" "127.0.0.1:$baseline_port" "$work/www$page" "$work/page.header" &
baseline_pid=$!
bare="http://127.0.0.1:$baseline_port$page"
wait_for "$bare"

say "bench: fact sheet $page ($(wc -c <"$work/www$page") bytes, $(wc -c <"$work/www$page.gz") compressed), $ROUNDS rounds of ${SLICE} s each"
for enc in identity gzip; do
	warm "$base$page" $enc
	warm "$static" $enc
	: >"$work/registry-$enc.rounds"
	: >"$work/nginx-$enc.rounds"
done
warm "$bare" identity
: >"$work/baseline.rounds"
for round in $(seq "$ROUNDS"); do
	for enc in identity gzip; do
		measure "$base$page" $enc "$SLICE" "$registry_pid" >>"$work/registry-$enc.rounds"
		measure "$static" $enc "$SLICE" $(nginx_pids) >>"$work/nginx-$enc.rounds"
	done
	measure "$bare" identity "$SLICE" "$baseline_pid" >>"$work/baseline.rounds"
	say "bench: round $round of $ROUNDS done"
done

search_row() { # QUERY: the number of results, then the measurement
	local url found
	url=$(curl -Gso /dev/null -w '%{url_effective}' --data-urlencode "q=$1" "$base/ca/algorithms")
	found=$(curl -sf "$url" | grep -o '[0-9][0-9.]* resultats\?' | head -1 | tr -d . | cut -d' ' -f1) || true
	warm "$url" gzip
	echo "${found:-?} $(measure "$url" gzip "$SEARCH" "$registry_pid")"
}
say "bench: searches «$MANY» and «$FEW», ${SEARCH} s each"
many_row=$(search_row "$MANY")
few_row=$(search_row "$FEW")

# summarise FILE: total requests / total seconds, the median p50, the highest p99, errors,
# and the processor time per request in microseconds.
summarise() {
	local med
	med=$(awk '{print $3}' "$1" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
	awk -v hz="$(getconf CLK_TCK)" -v med="$med" '
		{ req += $1; secs += $2; if ($4 > p99) p99 = $4; err += $5; ticks += $6 }
		END { printf "%d %.2f %.2f %d %.0f\n", req / secs, med, p99, err, ticks / hz * 1e6 / req }' "$1"
}
row() { # LABEL RPS P50 P99 ERRORS CPU
	printf '%-52s %9s %11s %11s %7s %10s\n' "$@"
}
echo
echo "Algorithm Registry, bench/run.sh, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) processors ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shares its processors)"
echo "$ENTRIES published entries (seeded in ${seed_secs} s); wrk $THREADS threads, $CONNS connections, keep-alive; register, nginx and wrk on this machine, over 127.0.0.1"
echo "fact sheet and nginx: $ROUNDS alternating rounds of ${SLICE} s each after ${WARMUP} s of warm-up; searches: ${SEARCH} s each, gzip"
echo
row "target" "req/s" "p50" "p99" "errors" "cpu/req"
ratios=()
for enc in identity gzip; do
	read -r r_rps r_p50 r_p99 r_err r_cpu <<<"$(summarise "$work/registry-$enc.rounds")"
	read -r n_rps n_p50 n_p99 n_err n_cpu <<<"$(summarise "$work/nginx-$enc.rounds")"
	row "fact sheet, cached, $enc (register)" "$r_rps" "$r_p50 ms" "$r_p99 ms" "$r_err" "$r_cpu µs"
	row "same page, static file, $enc (nginx)" "$n_rps" "$n_p50 ms" "$n_p99 ms" "$n_err" "$n_cpu µs"
	per_round=$(paste "$work/registry-$enc.rounds" "$work/nginx-$enc.rounds" | awk '{printf " %.2f", ($1 / $2) / ($7 / $8)}')
	ratios+=("register / nginx, $enc: $(awk -v a="$r_rps" -v b="$n_rps" 'BEGIN {printf "%.2f", a / b}') (per round:$per_round)")
	if [ $enc = identity ]; then
		read -r b_rps b_p50 b_p99 b_err b_cpu <<<"$(summarise "$work/baseline.rounds")"
		row "same response, Go net/http alone (baseline)" "$b_rps" "$b_p50 ms" "$b_p99 ms" "$b_err" "$b_cpu µs"
		ratios+=("baseline / nginx, identity: $(awk -v a="$b_rps" -v b="$n_rps" 'BEGIN {printf "%.2f", a / b}');" \
			"register / baseline: $(awk -v a="$r_rps" -v b="$b_rps" 'BEGIN {printf "%.2f", a / b}')")
	fi
done
for r in "$MANY:$many_row" "$FEW:$few_row"; do
	read -r found s_req s_secs s_p50 s_p99 s_err _ <<<"${r#*:}"
	row "search «${r%%:*}», $found results (register)" "$((s_req / s_secs))" "$s_p50 ms" "$s_p99 ms" "$s_err" "-"
done
echo
printf '%s\n' "${ratios[0]}" "${ratios[1]} ${ratios[2]}" "${ratios[3]}"
echo "target: register ≥ 0.50 × nginx. p50 is the median of the rounds, p99 the highest;"
echo "cpu/req is the processor time of the server per request (user + system; for nginx, all its processes)"
