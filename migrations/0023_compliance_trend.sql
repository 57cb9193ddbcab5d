-- The portfolio's standing per framework, one row per day: written when the
-- compliance dashboard computes it (the latest computation of a day wins),
-- read as the trend. A report as of a past time can always be recomputed
-- (`at`); this only keeps the dashboard's chart cheap.
CREATE TABLE compliance_snapshots (
    day               date        NOT NULL,
    framework         text        NOT NULL,
    percent_satisfied double precision NOT NULL,
    satisfied         integer     NOT NULL,
    not_satisfied     integer     NOT NULL,
    partial           integer     NOT NULL,
    manual            integer     NOT NULL,
    releases          integer     NOT NULL,
    taken_at          timestamptz NOT NULL,
    PRIMARY KEY (framework, day)
);
