-- Compliance reports. A person's statement about a control (organisational
-- controls need one; any control may carry one): per project, or
-- organisation-wide when project_id is NULL. Statements are never edited:
-- a newer one for the same control and project supersedes, a withdrawn one
-- stops counting, and reports as of an earlier time still see what held.
CREATE TABLE control_statements (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    framework    text        NOT NULL,
    control      text        NOT NULL,
    project_id   bigint      REFERENCES projects (id) ON DELETE CASCADE,
    status       text        NOT NULL CHECK (status IN ('satisfied', 'not_satisfied', 'partial', 'not_applicable')),
    statement    text        NOT NULL,
    author       text        NOT NULL,
    created_by   bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    withdrawn_at timestamptz
);
CREATE INDEX control_statements_control ON control_statements (framework, control, project_id, created_at DESC);
