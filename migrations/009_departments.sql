-- Departments: the council's units an entry belongs to, named in the three languages and
-- managed by the data office (/admin/departments). Authors choose from them.
CREATE TABLE departments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    names       jsonb NOT NULL CHECK (jsonb_typeof(names) = 'object'),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- One department per Catalan name, whatever its case.
CREATE UNIQUE INDEX departments_name_ca ON departments (lower(names ->> 'ca'));
