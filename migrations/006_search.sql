-- Full-text search over the public register.
--
-- search_documents holds one row per entry that the public can see: its latest published
-- revision, unless an administrator unpublished the entry. Triggers on revisions and
-- algorithms keep it up to date in the very transaction that publishes, retires, renames or
-- unpublishes, so the index can never show a draft, a revision in review or a withdrawn
-- entry, and nobody has to remember to call anything. (Generated columns were the
-- alternative; they cannot pick "the latest published revision" across rows, and would put
-- a three-language tsvector on every draft save.)

-- Both extensions are "trusted" in PostgreSQL 13 and later: the schema owner may create them.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One text search configuration per language: the language's Snowball stemmer, with
-- accents removed first, so that "energetica" finds "energètica" and "semaforos" finds
-- "semáforos". Queries go through the same configuration, so both sides agree.
CREATE TEXT SEARCH CONFIGURATION registry_ca (COPY = catalan);
ALTER TEXT SEARCH CONFIGURATION registry_ca ALTER MAPPING FOR hword, hword_part, word WITH unaccent, catalan_stem;
CREATE TEXT SEARCH CONFIGURATION registry_es (COPY = spanish);
ALTER TEXT SEARCH CONFIGURATION registry_es ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;
CREATE TEXT SEARCH CONFIGURATION registry_en (COPY = english);
ALTER TEXT SEARCH CONFIGURATION registry_en ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

CREATE TABLE search_documents (
    algorithm_id        uuid PRIMARY KEY REFERENCES algorithms (id),
    revision_id         uuid NOT NULL REFERENCES revisions (id),
    slug                text NOT NULL,
    number              int NOT NULL,
    lang                text NOT NULL,              -- the entry's original language
    -- Language maps as published, for the result list (which marks fallbacks).
    name                jsonb NOT NULL,
    description_short   jsonb NOT NULL,
    department_names    jsonb NOT NULL,
    -- Sort keys: the name in each language, falling back to the original.
    name_ca             text NOT NULL,
    name_es             text NOT NULL,
    name_en             text NOT NULL,
    -- Facets. The department is free text, so it is faceted in the original language.
    department          text NOT NULL,
    domain              text NOT NULL,
    risk_category       text NOT NULL,
    status              text NOT NULL,
    type                text NOT NULL,
    published_at        timestamptz NOT NULL,       -- publication of this revision: the last change
    first_published_at  timestamptz NOT NULL,
    -- Weighted: A name, B short description and keywords, C department and organisation,
    -- D every other text. Each falls back to the original language where a translation
    -- is missing, so a search in any language finds every entry. These are large (stored
    -- out of line), so they only select: ranking reads the small title vectors.
    tsv_ca              tsvector NOT NULL,
    tsv_es              tsvector NOT NULL,
    tsv_en              tsvector NOT NULL,
    -- The name (A), short description and keywords (B) alone, to rank by.
    title_ca            tsvector NOT NULL,
    title_es            tsvector NOT NULL,
    title_en            tsvector NOT NULL,
    -- Names in every language and keywords, lower case and without accents, for the
    -- trigram match that forgives typos. Kept short: similarity costs grow with its length.
    trgm                text NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_documents_tsv_ca ON search_documents USING gin (tsv_ca);
CREATE INDEX search_documents_tsv_es ON search_documents USING gin (tsv_es);
CREATE INDEX search_documents_tsv_en ON search_documents USING gin (tsv_en);
CREATE INDEX search_documents_trgm ON search_documents USING gin (trgm gin_trgm_ops);
-- The orders of the result list without a query, each ending with the id to be total.
CREATE INDEX search_documents_changed ON search_documents (published_at DESC, algorithm_id);
CREATE INDEX search_documents_name_ca ON search_documents ((name_ca COLLATE "ca-x-icu"), algorithm_id);
CREATE INDEX search_documents_name_es ON search_documents ((name_es COLLATE "es-x-icu"), algorithm_id);
CREATE INDEX search_documents_name_en ON search_documents ((name_en COLLATE "en-x-icu"), algorithm_id);
-- Facet counts without a query read this index alone (an index-only scan), not the rows.
CREATE INDEX search_documents_facets ON search_documents (risk_category, status, type, domain, department);
-- Only the triggers below write it (as the schema owner: SECURITY DEFINER), so that the
-- application cannot put into the public index anything but what was published.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON search_documents FROM registry_app;

-- search_text returns a language map's text in lang, else in the original language.
CREATE FUNCTION search_text(map jsonb, lang text, original text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(NULLIF(btrim(map ->> lang), ''), NULLIF(btrim(map ->> original), ''), '')
$$;

-- search_body is every long text of a fact sheet in lang (falling back to the original
-- language), one per line. One pass over the sheet with the jsonb functions: calling
-- search_text for each field costs several times more, and this runs three times in every
-- publishing transaction.
CREATE FUNCTION search_body(sheet jsonb, lang text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(string_agg(t, E'\n'), '') FROM (
        SELECT COALESCE(NULLIF(v ->> lang, ''), v ->> (sheet ->> 'lang')) AS t
          FROM jsonb_each(sheet) AS e (k, v)
         WHERE jsonb_typeof(v) = 'object' AND k IN ('goal', 'decision_making_process', 'impact', 'proportionality',
               'lawful_basis', 'alternatives_considered', 'training_data', 'source_data', 'connected_data_sources',
               'data_bias', 'description', 'methods_and_models', 'performance', 'risks', 'mitigations',
               'fria_summary', 'dpia_summary', 'human_intervention', 'monitoring', 'objection_procedure',
               'rollback', 'staff_training', 'transparency_limitations', 'remark', 'end_reason', 'revision_note')
        UNION ALL
        SELECT concat_ws(' ', COALESCE(NULLIF(x #>> ARRAY['name', lang], ''), x #>> ARRAY['name', sheet ->> 'lang']),
                   COALESCE(NULLIF(x #>> ARRAY['description', lang], ''), x #>> ARRAY['description', sheet ->> 'lang']),
                   COALESCE(NULLIF(x #>> ARRAY['summary', lang], ''), x #>> ARRAY['summary', sheet ->> 'lang']),
                   x ->> 'owner')
          FROM jsonb_array_elements(CASE WHEN jsonb_typeof(sheet -> 'data_sources') = 'array' THEN sheet -> 'data_sources' ELSE '[]' END
                || CASE WHEN jsonb_typeof(sheet -> 'impact_assessments') = 'array' THEN sheet -> 'impact_assessments' ELSE '[]' END) AS x
        UNION ALL
        SELECT concat_ws(' ', sheet #>> '{supplier,name}',
                   COALESCE(NULLIF(sheet #>> ARRAY['supplier', 'role', lang], ''), sheet #>> ARRAY['supplier', 'role', sheet ->> 'lang']))
    ) AS parts
$$;

CREATE FUNCTION search_keywords(sheet jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(string_agg(k, ' '), '')
      FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(sheet -> 'keywords') = 'array' THEN sheet -> 'keywords' ELSE '[]' END) AS k
$$;

-- search_title is the weighted tsvector of a fact sheet's name (A), short description and
-- keywords (B) in lang, with configuration cfg.
CREATE FUNCTION search_title(sheet jsonb, lang text, cfg regconfig) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(cfg, search_text(sheet -> 'name', lang, sheet ->> 'lang')), 'A')
        || setweight(to_tsvector(cfg, search_text(sheet -> 'description_short', lang, sheet ->> 'lang') || ' '
               || search_keywords(sheet)), 'B')
$$;

-- search_vector adds to the title the department and organisation (C) and every other text (D).
CREATE FUNCTION search_vector(sheet jsonb, title tsvector, lang text, cfg regconfig) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT title
        || setweight(to_tsvector(cfg, concat_ws(' ', search_text(sheet -> 'department', lang, o),
               search_text(sheet -> 'organization', lang, o), search_text(sheet -> 'area', lang, o))), 'C')
        || setweight(to_tsvector(cfg, search_body(sheet, lang)), 'D')
    FROM (SELECT sheet ->> 'lang' AS o) AS x
$$;

-- search_trigrams is what the typo-forgiving match compares a query with.
CREATE FUNCTION search_trigrams(sheet jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT lower(unaccent(concat_ws(' ', sheet #>> '{name,ca}', sheet #>> '{name,es}', sheet #>> '{name,en}',
        search_keywords(sheet))))
$$;

-- search_refresh rebuilds the document of one entry from its latest published revision, or
-- removes it when the entry has none or was unpublished. It first takes a share lock on the
-- entry, so that a publication and a concurrent unpublish are serialised and the later one
-- sees the earlier one's outcome: an unpublished entry never lingers in the index.
CREATE FUNCTION search_refresh(alg uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    rev record;
    s   jsonb; -- the fact sheet, detoasted once rather than at every use
    o   text;  -- its original language
    ca  tsvector;
    es  tsvector;
    en  tsvector;
BEGIN
    PERFORM 1 FROM algorithms WHERE id = alg FOR SHARE;
    DELETE FROM search_documents WHERE algorithm_id = alg;
    SELECT r.id, r.number, r.fact_sheet, r.risk_category, COALESCE(r.decided_at, r.updated_at) AS published_at, a.slug
      INTO rev
      FROM algorithms a JOIN revisions r ON r.algorithm_id = a.id
     WHERE a.id = alg AND a.unpublished_at IS NULL AND r.state = 'published'
     ORDER BY r.number DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    s := rev.fact_sheet;
    o := COALESCE(s ->> 'lang', 'ca');
    ca := search_title(s, 'ca', 'registry_ca');
    es := search_title(s, 'es', 'registry_es');
    en := search_title(s, 'en', 'registry_en');
    INSERT INTO search_documents (algorithm_id, revision_id, slug, number, lang, name, description_short,
        department_names, name_ca, name_es, name_en, department, domain, risk_category, status, type,
        published_at, first_published_at, tsv_ca, tsv_es, tsv_en, title_ca, title_es, title_en, trgm)
    VALUES (alg, rev.id, rev.slug, rev.number, o, COALESCE(s -> 'name', '{}'), COALESCE(s -> 'description_short', '{}'),
        COALESCE(s -> 'department', '{}'),
        search_text(s -> 'name', 'ca', o), search_text(s -> 'name', 'es', o), search_text(s -> 'name', 'en', o),
        search_text(s -> 'department', o, o), COALESCE(s ->> 'domain', ''), COALESCE(rev.risk_category, ''),
        COALESCE(s ->> 'status', ''), COALESCE(s ->> 'type', ''), rev.published_at,
        (SELECT min(COALESCE(p.decided_at, p.updated_at)) FROM revisions p WHERE p.algorithm_id = alg AND p.state = 'published'),
        search_vector(s, ca, 'ca', 'registry_ca'), search_vector(s, es, 'es', 'registry_es'),
        search_vector(s, en, 'en', 'registry_en'), ca, es, en, search_trigrams(s));
END
$$;

CREATE FUNCTION search_on_revision() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM search_refresh(NEW.algorithm_id);
    RETURN NULL;
END
$$;

-- A revision becomes public when its state becomes 'published' (the review workflow), or
-- when it is inserted already published (synthetic data for load tests).
CREATE TRIGGER search_on_publication AFTER INSERT OR UPDATE OF state ON revisions
    FOR EACH ROW WHEN (NEW.state = 'published') EXECUTE FUNCTION search_on_revision();

CREATE FUNCTION search_on_algorithm() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.unpublished_at IS DISTINCT FROM OLD.unpublished_at THEN
        PERFORM search_refresh(NEW.id);
    ELSE
        UPDATE search_documents SET slug = NEW.slug, updated_at = now() WHERE algorithm_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;

-- An emergency unpublish removes the entry; a rename (a new slug) follows it.
CREATE TRIGGER search_on_algorithm AFTER UPDATE OF unpublished_at, slug ON algorithms
    FOR EACH ROW WHEN (NEW.unpublished_at IS DISTINCT FROM OLD.unpublished_at OR NEW.slug IS DISTINCT FROM OLD.slug)
    EXECUTE FUNCTION search_on_algorithm();

-- search_fuzzy returns the entries whose names or keywords contain something like q (a misspelt or unaccented word), with how alike. The function exists for
-- its SET clause: pg_trgm's threshold is a setting, and 0.55 (below the default 0.6) still
-- finds "enerjetica", "semafros" or "housholds" through the trigram index, while 0.5 lets
-- in chance resemblances ("bus" and "but").
CREATE FUNCTION search_fuzzy(q text) RETURNS TABLE (algorithm_id uuid, similarity real)
LANGUAGE sql STABLE ROWS 50
SET pg_trgm.word_similarity_threshold = 0.55
AS $$
    SELECT d.algorithm_id, word_similarity(n.q, d.trgm)
    FROM (SELECT lower(unaccent(q)) AS q) AS n, search_documents d
    WHERE n.q <% d.trgm
$$;

-- Index what is already published.
DO $$
BEGIN
    PERFORM search_refresh(id) FROM algorithms;
END
$$;
