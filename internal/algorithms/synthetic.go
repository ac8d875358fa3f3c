package algorithms

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/audit"
)

// Synthetic entries fill a database with a realistic number of published entries for load
// tests and `registry seed --scale N`: varied names, departments, domains and risk tiers
// in the three languages, with descriptions of one to three kilobytes, some translations
// missing. They are written directly as published revision 1, bypassing the review, in
// one transaction per batch; the search index follows through its triggers.

// AuditSynthetic records each batch of synthetic entries.
const AuditSynthetic = "synthetic_entries_created"

const syntheticBatch = 1000

// tri is one phrase in Catalan, Spanish and English.
type tri [3]string

var synthLangs = [3]string{"ca", "es", "en"}

// synthKinds start a name: what the algorithm does.
var synthKinds = []tri{
	{"Predicció", "Predicción", "Prediction"}, {"Classificació", "Clasificación", "Classification"},
	{"Detecció", "Detección", "Detection"}, {"Optimització", "Optimización", "Optimisation"},
	{"Assignació", "Asignación", "Allocation"}, {"Priorització", "Priorización", "Prioritisation"},
	{"Estimació", "Estimación", "Estimation"}, {"Cribratge", "Cribado", "Screening"},
	{"Previsió", "Previsión", "Forecast"}, {"Recomanació", "Recomendación", "Recommendation"},
}

// synthSubject is what an algorithm works on, with its policy domain and keywords.
type synthSubject struct {
	phrase   tri
	domain   string
	keywords []tri
}

var synthSubjects = []synthSubject{
	{tri{"de la demanda d'habitatge social", "de la demanda de vivienda social", "of social housing demand"},
		"housing, living and living environment", []tri{{"habitatge", "vivienda", "housing"}, {"lloguer social", "alquiler social", "social rent"}}},
	{tri{"d'incidències a la via pública", "de incidencias en la vía pública", "of street incidents"},
		"government", []tri{{"incidències", "incidencias", "incidents"}, {"manteniment", "mantenimiento", "maintenance"}}},
	{tri{"del consum d'aigua", "del consumo de agua", "of water consumption"},
		"environment, spacial planning and water", []tri{{"aigua", "agua", "water"}, {"fuites", "fugas", "leaks"}}},
	{tri{"de places d'aparcament", "de plazas de aparcamiento", "of parking spaces"},
		"traffic and transportation", []tri{{"aparcament", "aparcamiento", "parking"}, {"àrea verda", "área verde", "resident parking"}}},
	{tri{"de freqüències d'autobús", "de frecuencias de autobús", "of bus frequencies"},
		"traffic and transportation", []tri{{"autobús", "autobús", "bus"}, {"transport públic", "transporte público", "public transport"}}},
	{tri{"del soroll nocturn", "del ruido nocturno", "of night-time noise"},
		"environment, spacial planning and water", []tri{{"soroll", "ruido", "noise"}, {"oci nocturn", "ocio nocturno", "nightlife"}}},
	{tri{"de sol·licituds d'ajuts socials", "de solicitudes de ayudas sociales", "of social aid applications"},
		"subsidies, benefits and allowances", []tri{{"ajuts", "ayudas", "benefits"}, {"serveis socials", "servicios sociales", "social services"}}},
	{tri{"d'inspeccions de comerços", "de inspecciones de comercios", "of shop inspections"},
		"economy and entrepreneurship", []tri{{"inspecció", "inspección", "inspection"}, {"comerç", "comercio", "retail"}}},
	{tri{"de la qualitat de l'aire", "de la calidad del aire", "of air quality"},
		"health and health care", []tri{{"qualitat de l'aire", "calidad del aire", "air quality"}, {"NO2", "NO2", "NO2"}}},
	{tri{"de fluxos de visitants", "de flujos de visitantes", "of visitor flows"},
		"culture, sports and leisure", []tri{{"turisme", "turismo", "tourism"}, {"visitants", "visitantes", "visitors"}}},
	{tri{"de l'ús d'equipaments esportius", "del uso de equipamientos deportivos", "of sports facility use"},
		"culture, sports and leisure", []tri{{"esport", "deporte", "sport"}, {"equipaments", "equipamientos", "facilities"}}},
	{tri{"de l'absentisme escolar", "del absentismo escolar", "of school absenteeism"},
		"education and science", []tri{{"escola", "escuela", "school"}, {"absentisme", "absentismo", "absenteeism"}}},
	{tri{"de la recollida de residus", "de la recogida de residuos", "of waste collection"},
		"environment, spacial planning and water", []tri{{"residus", "residuos", "waste"}, {"contenidors", "contenedores", "bins"}}},
	{tri{"del risc d'inundació", "del riesgo de inundación", "of flood risk"},
		"public safety", []tri{{"inundació", "inundación", "flooding"}, {"clavegueram", "alcantarillado", "sewers"}}},
	{tri{"de llicències d'obres", "de licencias de obras", "of building permits"},
		"housing, living and living environment", []tri{{"llicències", "licencias", "permits"}, {"urbanisme", "urbanismo", "planning"}}},
	{tri{"de queixes ciutadanes", "de quejas ciudadanas", "of citizen complaints"},
		"government", []tri{{"queixes", "quejas", "complaints"}, {"atenció ciutadana", "atención ciudadana", "citizen services"}}},
	{tri{"de la mobilitat en bicicleta", "de la movilidad en bicicleta", "of cycling"},
		"traffic and transportation", []tri{{"bicicleta", "bicicleta", "bicycle"}, {"carril bici", "carril bici", "cycle lane"}}},
	{tri{"de la solitud de la gent gran", "de la soledad de las personas mayores", "of loneliness among older people"},
		"family, youth and households", []tri{{"gent gran", "personas mayores", "older people"}, {"teleassistència", "teleasistencia", "telecare"}}},
	{tri{"del cobrament de tributs", "del cobro de tributos", "of tax collection"},
		"taxes", []tri{{"tributs", "tributos", "taxes"}, {"recaptació", "recaudación", "revenue"}}},
	{tri{"d'ofertes de feina", "de ofertas de empleo", "of job offers"},
		"work and career", []tri{{"ocupació", "empleo", "employment"}, {"formació", "formación", "training"}}},
}

var synthDistricts = []string{"Ciutat Vella", "l'Eixample", "Sants-Montjuïc", "les Corts", "Sarrià-Sant Gervasi",
	"Gràcia", "Horta-Guinardó", "Nou Barris", "Sant Andreu", "Sant Martí"}

var synthDepartments = []tri{
	{"Àrea de Drets Socials", "Área de Derechos Sociales", "Social Rights Area"},
	{"Gerència de Mobilitat i Infraestructures", "Gerencia de Movilidad e Infraestructuras", "Mobility and Infrastructure Management"},
	{"Institut Municipal d'Hisenda", "Instituto Municipal de Hacienda", "Municipal Tax Institute"},
	{"Àrea d'Ecologia Urbana", "Área de Ecología Urbana", "Urban Ecology Area"},
	{"Institut Municipal d'Informàtica", "Instituto Municipal de Informática", "Municipal IT Institute"},
	{"Guàrdia Urbana de Barcelona", "Guardia Urbana de Barcelona", "Barcelona City Police"},
	{"Consorci d'Educació de Barcelona", "Consorcio de Educación de Barcelona", "Barcelona Education Consortium"},
	{"Institut Municipal de Parcs i Jardins", "Instituto Municipal de Parques y Jardines", "Municipal Parks and Gardens Institute"},
	{"Direcció de Turisme", "Dirección de Turismo", "Tourism Directorate"},
	{"Institut Municipal de l'Habitatge i Rehabilitació", "Instituto Municipal de la Vivienda y Rehabilitación", "Municipal Housing and Renovation Institute"},
	{"Agència de Salut Pública de Barcelona", "Agencia de Salud Pública de Barcelona", "Barcelona Public Health Agency"},
	{"Institut Barcelona Esports", "Instituto Barcelona Deportes", "Barcelona Sports Institute"},
	{"Barcelona Activa", "Barcelona Activa", "Barcelona Activa"},
	{"Oficina Municipal de Dades", "Oficina Municipal de Datos", "Municipal Data Office"},
	{"Direcció d'Atenció Ciutadana", "Dirección de Atención Ciudadana", "Citizen Services Directorate"},
	{"Bombers de Barcelona", "Bomberos de Barcelona", "Barcelona Fire Service"},
}

// synthSentences are the building blocks of the long texts; %[1]s is the subject phrase
// and %[2]s a district.
var synthSentences = []tri{
	{"El model estima cada setmana l'evolució %[1]s a partir de dades històriques de cinc anys.",
		"El modelo estima cada semana la evolución %[1]s a partir de datos históricos de cinco años.",
		"The model estimates the weekly evolution %[1]s from five years of historical data."},
	{"Les dades d'entrada es pseudonimitzen abans d'entrar al sistema i només el personal autoritzat pot reidentificar un cas.",
		"Los datos de entrada se seudonimizan antes de entrar en el sistema y solo el personal autorizado puede reidentificar un caso.",
		"Input data are pseudonymised before they enter the system, and only authorised staff can re-identify a case."},
	{"La primera fase es va provar a %[2]s durant sis mesos, amb una avaluació independent dels resultats.",
		"La primera fase se probó en %[2]s durante seis meses, con una evaluación independiente de los resultados.",
		"The first phase was tested in %[2]s for six months, with an independent evaluation of the results."},
	{"El resultat és una llista ordenada que el personal tècnic revisa abans de prendre cap decisió.",
		"El resultado es una lista ordenada que el personal técnico revisa antes de tomar ninguna decisión.",
		"The output is a ranked list that technical staff review before any decision is taken."},
	{"Cada variable del model està documentada, amb la seva font, la freqüència d'actualització i el motiu pel qual s'hi inclou.",
		"Cada variable del modelo está documentada, con su fuente, la frecuencia de actualización y el motivo por el que se incluye.",
		"Every variable of the model is documented, with its source, its update frequency and the reason it is included."},
	{"El rendiment es mesura cada trimestre amb dades que el model no ha vist mai, i els resultats es publiquen en aquest registre.",
		"El rendimiento se mide cada trimestre con datos que el modelo no ha visto nunca, y los resultados se publican en este registro.",
		"Performance is measured every quarter on data the model has never seen, and the results are published in this register."},
	{"Es comprova que els errors no es concentren en cap barri, grup d'edat ni gènere, i si ho fan es corregeix el model.",
		"Se comprueba que los errores no se concentran en ningún barrio, grupo de edad ni género, y si lo hacen se corrige el modelo.",
		"Errors are checked so that they do not concentrate in any neighbourhood, age group or gender; if they do, the model is corrected."},
	{"El codi font és públic i qualsevol persona pot reproduir els càlculs amb les dades obertes corresponents.",
		"El código fuente es público y cualquier persona puede reproducir los cálculos con los datos abiertos correspondientes.",
		"The source code is public, and anyone can reproduce the calculations with the corresponding open data."},
	{"Quan el sistema no està disponible, el servei continua amb el procediment manual anterior sense cap perjudici per a la ciutadania.",
		"Cuando el sistema no está disponible, el servicio continúa con el procedimiento manual anterior sin ningún perjuicio para la ciudadanía.",
		"When the system is unavailable, the service continues with the previous manual procedure at no cost to residents."},
	{"L'equip responsable revisa trimestralment si l'eina continua sent necessària i proporcionada respecte de l'objectiu.",
		"El equipo responsable revisa trimestralmente si la herramienta sigue siendo necesaria y proporcionada respecto al objetivo.",
		"The responsible team reviews every quarter whether the tool is still necessary and proportionate to its goal."},
	{"Les previsions %[1]s s'agreguen per illa de cases per evitar que es puguin atribuir a una persona concreta.",
		"Las previsiones %[1]s se agregan por manzana para evitar que se puedan atribuir a una persona concreta.",
		"Forecasts %[1]s are aggregated by block so that they cannot be attributed to any one person."},
	{"El model combina regles definides pel servei amb un algorisme d'aprenentatge automàtic de tipus arbre de decisió.",
		"El modelo combina reglas definidas por el servicio con un algoritmo de aprendizaje automático de tipo árbol de decisión.",
		"The model combines rules defined by the service with a decision-tree machine-learning algorithm."},
	{"Abans de cada nova versió, un grup de treball amb entitats veïnals de %[2]s en revisa els criteris.",
		"Antes de cada nueva versión, un grupo de trabajo con entidades vecinales de %[2]s revisa sus criterios.",
		"Before each new version, a working group with residents' associations from %[2]s reviews its criteria."},
	{"Les dades es conserven un màxim de dos anys i després s'esborren de manera segura.",
		"Los datos se conservan un máximo de dos años y después se borran de forma segura.",
		"Data are kept for at most two years and then securely deleted."},
	{"La proposta del sistema inclou sempre una explicació dels tres factors que més hi han pesat, perquè el personal la pugui contrastar.",
		"La propuesta del sistema incluye siempre una explicación de los tres factores que más han pesado, para que el personal la pueda contrastar.",
		"Every proposal comes with an explanation of the three factors that weighed most, so that staff can check it."},
	{"Abans d'entrar en servei, el model es va comparar durant tres mesos amb les decisions preses sense l'eina.",
		"Antes de entrar en servicio, el modelo se comparó durante tres meses con las decisiones tomadas sin la herramienta.",
		"Before going live, the model was compared for three months with the decisions taken without the tool."},
	{"Les persones afectades poden consultar quines dades seves s'han fet servir i demanar-ne la rectificació.",
		"Las personas afectadas pueden consultar qué datos suyos se han utilizado y pedir su rectificación.",
		"The people concerned can see which of their data were used and ask for them to be corrected."},
	{"El sistema no fa servir categories especials de dades personals ni infereix l'origen, la salut o les opinions de ningú.",
		"El sistema no utiliza categorías especiales de datos personales ni infiere el origen, la salud o las opiniones de nadie.",
		"The system uses no special categories of personal data and infers no one's origin, health or opinions."},
	{"Les mètriques de qualitat %[1]s es calculen per separat per a cada barri i es comparen amb la mitjana de la ciutat.",
		"Las métricas de calidad %[1]s se calculan por separado para cada barrio y se comparan con la media de la ciudad.",
		"Quality metrics %[1]s are computed separately for each neighbourhood and compared with the city average."},
	{"El contracte amb el proveïdor obliga a lliurar la documentació tècnica i permet auditar el sistema en qualsevol moment.",
		"El contrato con el proveedor obliga a entregar la documentación técnica y permite auditar el sistema en cualquier momento.",
		"The supplier's contract requires the technical documentation to be handed over and allows the system to be audited at any time."},
	{"Un registre d'activitat guarda cada proposta, la persona que la va revisar i la decisió final, durant cinc anys.",
		"Un registro de actividad guarda cada propuesta, la persona que la revisó y la decisión final, durante cinco años.",
		"An activity log keeps every proposal, the person who reviewed it and the final decision, for five years."},
	{"Si els indicadors d'equitat empitjoren dos trimestres seguits, el servei suspèn l'ús de l'eina fins que se'n revisi el disseny.",
		"Si los indicadores de equidad empeoran dos trimestres seguidos, el servicio suspende el uso de la herramienta hasta que se revise su diseño.",
		"If the fairness indicators worsen for two quarters in a row, the service stops using the tool until its design is reviewed."},
}

// synthField holds a short text for each required long field, in the same three languages.
var synthFields = map[string]tri{
	"goal": {"Anticipar l'evolució %[1]s per planificar millor els recursos municipals.",
		"Anticipar la evolución %[1]s para planificar mejor los recursos municipales.",
		"To anticipate the evolution %[1]s so that municipal resources are planned better."},
	"decision_making_process": {"El sistema proposa; una persona del servei decideix i en respon.",
		"El sistema propone; una persona del servicio decide y responde de ello.",
		"The system proposes; a member of staff decides and is accountable."},
	"impact":          {"Afecta la planificació del servei a %[2]s.", "Afecta a la planificación del servicio en %[2]s.", "It affects how the service is planned in %[2]s."},
	"proportionality": {"No hi ha cap mitjà menys intrusiu amb resultats comparables.", "No existe ningún medio menos intrusivo con resultados comparables.", "No less intrusive means gives comparable results."},
	"lawful_basis":    {"Article 6.1.e del RGPD: missió realitzada en interès públic.", "Artículo 6.1.e del RGPD: misión realizada en interés público.", "GDPR Article 6(1)(e): a task carried out in the public interest."},
	"training_data":   {"Registres municipals dels darrers cinc anys.", "Registros municipales de los últimos cinco años.", "Municipal records of the last five years."},
	"source_data":     {"Dades del servei actualitzades cada setmana.", "Datos del servicio actualizados cada semana.", "Service data updated every week."},
	"connected_data_sources": {"Padró municipal i sistema de gestió del servei.", "Padrón municipal y sistema de gestión del servicio.",
		"The municipal population register and the service's management system."},
	"risks": {"Biaix en barris amb menys dades i errors en casos poc freqüents.", "Sesgo en barrios con menos datos y errores en casos poco frecuentes.",
		"Bias in neighbourhoods with less data, and errors in rare cases."},
	"human_intervention": {"Cada proposta la valida una persona abans d'aplicar-la.", "Cada propuesta la valida una persona antes de aplicarla.",
		"A person validates every proposal before it is applied."},
	"monitoring": {"Indicadors d'error i d'equitat revisats cada trimestre.", "Indicadores de error y de equidad revisados cada trimestre.", "Error and fairness indicators reviewed every quarter."},
	"objection_procedure": {"Qualsevol persona pot demanar una revisió a l'Oficina d'Atenció Ciutadana o al 010.",
		"Cualquier persona puede pedir una revisión en la Oficina de Atención Ciudadana o en el 010.",
		"Anyone can ask for a review at a Citizen Service Office or by calling 010."},
}

// SeedSynthetic inserts n synthetic published entries owned by owner (an existing user),
// in transactions of up to 1,000 entries, several at once: indexing each entry for search
// (in the revisions trigger) is most of the work, and it uses one processor per connection.
func (s *Store) SeedSynthetic(ctx context.Context, n int, owner Actor) error {
	if owner.UserID == "" {
		return fmt.Errorf("algorithms: synthetic entries need an owner")
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, min(runtime.GOMAXPROCS(0), 4)))
	seed := uint64(time.Now().UnixNano())
	for done, batch := 0, uint64(0); done < n; done, batch = done+syntheticBatch, batch+1 {
		size := min(syntheticBatch, n-done)
		rng := rand.New(rand.NewPCG(seed, batch)) // one per batch: a Rand is not safe for concurrent use
		g.Go(func() error {
			return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error { return s.seedBatch(ctx, tx, rng, size, owner) })
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("algorithms: synthetic entries: %w", err)
	}
	return nil
}

// synthRow is one synthetic entry ready to copy.
type synthRow struct {
	algID, revID, slug          string
	sheet, answers              []byte
	risk                        computedRisk
	created, submitted, decided time.Time
}

func (s *Store) seedBatch(ctx context.Context, tx pgx.Tx, rng *rand.Rand, size int, owner Actor) error {
	rows := make([]synthRow, size)
	for i := range rows {
		sheet, answers := s.synthSheet(rng)
		sheetJSON, answersJSON, err := encode(sheet, answers)
		if err != nil {
			return err
		}
		decided := time.Now().Add(-time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour))))
		submitted := decided.Add(-time.Duration(1+rng.IntN(20)) * 24 * time.Hour)
		algID := uuid.NewString()
		// Batches run at once, so a counter cannot make slugs unique; 32 random bits can,
		// among entries whose names (of a few thousand kinds) are the same.
		rows[i] = synthRow{algID: algID, revID: uuid.NewString(), slug: Slugify(sheet.Name[sheet.Lang]) + "-" + algID[:8],
			sheet: sheetJSON, answers: answersJSON, risk: s.computed(answers),
			created: submitted.Add(-time.Duration(10+rng.IntN(120)) * 24 * time.Hour), submitted: submitted, decided: decided}
	}
	copies := []struct {
		table string
		cols  []string
		row   func(r synthRow) []any
	}{
		{"algorithms", []string{"id", "slug", "created_by", "created_at"},
			func(r synthRow) []any { return []any{r.algID, r.slug, owner.UserID, r.created} }},
		{"algorithm_slugs", []string{"slug", "algorithm_id", "created_at"},
			func(r synthRow) []any { return []any{r.slug, r.algID, r.created} }},
		{"algorithm_owners", []string{"algorithm_id", "user_id", "added_at"},
			func(r synthRow) []any { return []any{r.algID, owner.UserID, r.created} }},
		{"revisions", []string{"id", "algorithm_id", "number", "state", "version", "fact_sheet", "risk_answers", "risk_category",
			"impact_level", "approvals_needed", "expert_required", "exception_claimed", "created_by", "created_at", "updated_by",
			"updated_at", "submitted_at", "decided_at"},
			func(r synthRow) []any {
				return []any{r.revID, r.algID, 1, StatePublished, 1, r.sheet, r.answers, r.risk.category, r.risk.level,
					r.risk.approvals, r.risk.expert, r.risk.exception, owner.UserID, r.created, owner.UserID, r.decided, r.submitted, r.decided}
			}},
		{"revision_editors", []string{"revision_id", "user_id"}, func(r synthRow) []any { return []any{r.revID, owner.UserID} }},
		{"publications", []string{"revision_id", "algorithm_id", "number", "published_at", "approvals", "conditions", "retirement"},
			func(r synthRow) []any {
				return []any{r.revID, r.algID, 1, r.decided, r.risk.approvals, []byte("[]"), false}
			}},
	}
	for _, c := range copies {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return c.row(rows[i]), nil
		}))
		if err != nil {
			return fmt.Errorf("copy %s: %w", c.table, err)
		}
	}
	return audit.Record(ctx, tx, owner.event(AuditSynthetic, "", map[string]any{"count": size}))
}

// synthSheet makes one complete fact sheet and its risk answers.
func (s *Store) synthSheet(rng *rand.Rand) (FactSheet, risk.Answers) {
	subj := synthSubjects[rng.IntN(len(synthSubjects))]
	kind := synthKinds[rng.IntN(len(synthKinds))]
	dept := synthDepartments[rng.IntN(len(synthDepartments))]
	district := synthDistricts[rng.IntN(len(synthDistricts))]
	orig := pick(rng, []string{"ca", "ca", "ca", "ca", "ca", "ca", "ca", "es", "es", "en"})
	langs := map[string]bool{orig: true}
	for _, l := range synthLangs {
		langs[l] = langs[l] || rng.IntN(4) > 0 // a quarter of the translations are missing
	}
	text := func(t tri) Text {
		out := Text{}
		for i, l := range synthLangs {
			if langs[l] {
				out[l] = strings.NewReplacer("%[1]s", subj.phrase[i], "%[2]s", district).Replace(t[i])
			}
		}
		return out
	}
	in := map[string]string{"ca": "a", "es": "en", "en": "in"}
	name := Text{}
	for i, l := range synthLangs {
		if langs[l] {
			name[l] = fmt.Sprintf("%s %s %s %s", kind[i], subj.phrase[i], in[l], district)
		}
	}
	fs := FactSheet{Lang: orig, Name: name, Domain: subj.domain, Department: text(dept),
		Organization: text(tri{"Ajuntament de Barcelona", "Ayuntamiento de Barcelona", "Barcelona City Council"}),
		Area:         text(tri{"Barcelona", "Barcelona", "Barcelona"}), ContactEmail: "dades@bcn.example",
		Status: pick(rng, []string{"operational", "operational", "operational", "operational", "operational", "operational",
			"pilot", "pilot", "evaluation", "development", "design", "planned", "retired"}),
		AlgorithmType: pick(rng, AlgorithmTypes), Type: pick(rng, Types)}
	fs.DescriptionShort = text(tri{"Eina de suport al servei: " + strings.ToLower(kind[0]) + " %[1]s a %[2]s.",
		"Herramienta de apoyo al servicio: " + strings.ToLower(kind[1]) + " %[1]s en %[2]s.",
		"A tool supporting the service: " + strings.ToLower(kind[2]) + " %[1]s in %[2]s."})
	for _, k := range subj.keywords {
		fs.Keywords = append(fs.Keywords, k[slicesIndex(synthLangs, orig)])
	}
	fs.Description = longText(rng, text)
	for field, t := range synthFields {
		setSynthText(&fs, field, text(t))
	}
	if fs.Status == "retired" {
		fs.EndDate = "2025-12-31"
		fs.EndReason = text(tri{"Substituït per un nou servei.", "Sustituido por un nuevo servicio.", "Replaced by a new service."})
	}
	return fs, s.synthAnswers(rng)
}

// longText joins eleven to twenty-two sentences into paragraphs of four: one to three
// kilobytes per language.
func longText(rng *rand.Rand, text func(tri) Text) Text {
	order := rng.Perm(len(synthSentences))[:11+rng.IntN(len(synthSentences)-10)]
	out := Text{}
	for n, i := range order {
		sep := " "
		if n%4 == 0 {
			sep = "\n\n"
		}
		for l, v := range text(synthSentences[i]) {
			out[l] = strings.TrimSpace(out[l] + sep + v)
		}
	}
	return out
}

func setSynthText(fs *FactSheet, field string, t Text) {
	targets := map[string]*Text{"goal": &fs.Goal, "decision_making_process": &fs.DecisionMakingProcess, "impact": &fs.Impact,
		"proportionality": &fs.Proportionality, "lawful_basis": &fs.LawfulBasis, "training_data": &fs.TrainingData,
		"source_data": &fs.SourceData, "connected_data_sources": &fs.ConnectedDataSources, "risks": &fs.Risks,
		"human_intervention": &fs.HumanIntervention, "monitoring": &fs.Monitoring, "objection_procedure": &fs.ObjectionProcedure}
	*targets[field] = t
}

// synthAnswers answers the whole assessment: most entries minimal risk, a fifth limited
// (a chatbot-like Article 50 case), a fifth high (an Annex III area), impact at random.
func (s *Store) synthAnswers(rng *rand.Rand) risk.Answers {
	d := s.Risk
	a := d.Blank()
	for _, q := range d.Checklist.Questions() {
		a.Checklist[q.ID] = false
	}
	switch rng.IntN(5) {
	case 0:
		a.Checklist[d.Checklist.Transparency[0].ID] = true
	case 1:
		a.Checklist[d.Checklist.High[rng.IntN(len(d.Checklist.High))].ID] = true
	}
	for _, q := range d.Impact.Questions {
		a.Impact[q.ID] = q.Choices[rng.IntN(len(q.Choices))].ID
	}
	return a
}

func pick(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }

func slicesIndex(langs [3]string, l string) int {
	for i, x := range langs {
		if x == l {
			return i
		}
	}
	return 0
}
