-- EU Cyber Resilience Act, Art. 14: which projects are CRA products, and the
-- reporting cases (actively exploited vulnerabilities, severe incidents) with
-- their submissions and corrective measure. See docs/cra.md.

CREATE TABLE cra_products (
    project_id         bigint      PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    product            boolean     NOT NULL,
    -- ISO 3166-1 alpha-2 codes of EU member states the product is made available in.
    member_states      text[]      NOT NULL DEFAULT '{}',
    support_period_end date,
    updated_by         text        NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- When Cairn first saw each KEV entry: `kev_entries` is replaced on every
-- import (its `imported_at` is the last import), this is kept.
CREATE TABLE kev_first_seen (
    cve_id     text COLLATE "C" PRIMARY KEY,
    first_seen timestamptz NOT NULL
);
INSERT INTO kev_first_seen (cve_id, first_seen)
SELECT cve_id, imported_at FROM kev_entries ON CONFLICT DO NOTHING;

-- What the catalog says about the exploit (the draft reports quote it).
ALTER TABLE kev_entries ADD COLUMN short_description text;
ALTER TABLE kev_entries ADD COLUMN notes text;
ALTER TABLE kev_entries ADD COLUMN cwes text[] NOT NULL DEFAULT '{}';

CREATE TABLE cra_cases (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id              bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind                    text        NOT NULL
                                CHECK (kind IN ('exploited_vulnerability', 'severe_incident')),
    -- The vulnerability group (no foreign key: alias groups merge) and the
    -- id it was shown as when the case opened.
    vulnerability_id        bigint,
    display_id              text,
    -- A severe incident's description.
    title                   text,
    -- When Cairn learned that a finding of the product is actively exploited
    -- (or when the maintainer says they became aware).
    aware_at                timestamptz NOT NULL,
    -- `kev` for cases opened by the catalog, else the token's name.
    opened_by               text        NOT NULL,
    opened_at               timestamptz NOT NULL DEFAULT now(),
    corrective_description  text,
    corrective_available_at timestamptz,
    corrective_recorded_by  text,
    corrective_recorded_at  timestamptz,
    -- When `cra.deadline_approaching` was queued for each stage (exactly once).
    announced_early_warning timestamptz,
    announced_notification  timestamptz,
    announced_final_report  timestamptz,
    UNIQUE (project_id, vulnerability_id),
    CHECK (kind = 'severe_incident' OR vulnerability_id IS NOT NULL),
    CHECK ((corrective_description IS NULL) = (corrective_available_at IS NULL))
);
CREATE INDEX cra_cases_project ON cra_cases (project_id, id);

CREATE TABLE cra_submissions (
    case_id      bigint      NOT NULL REFERENCES cra_cases (id) ON DELETE CASCADE,
    stage        text        NOT NULL CHECK (stage IN ('early_warning', 'notification', 'final_report')),
    submitted_at timestamptz NOT NULL,
    reference    text,
    note         text,
    recorded_by  text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, stage)
);

-- Notifications learn the two CRA events.
ALTER TABLE notification_subscriptions DROP CONSTRAINT notification_subscriptions_events_check;
ALTER TABLE notification_subscriptions ADD CONSTRAINT notification_subscriptions_events_check
    CHECK (cardinality(events) > 0
           AND events <@ ARRAY['finding.appeared', 'gate.denied', 'cra.case_opened',
                               'cra.deadline_approaching']::text[]);
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_event_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_event_check
    CHECK (event IN ('finding.appeared', 'gate.denied', 'test', 'cra.case_opened',
                     'cra.deadline_approaching'));
