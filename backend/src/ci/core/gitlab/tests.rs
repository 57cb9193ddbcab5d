use super::*;

#[test]
fn untrusted_variables_run_as_code() {
    let p = HardeningParams::default();
    let text = "notes:\n  script:\n    - echo \"$CI_COMMIT_MESSAGE\"\n    - eval \"echo $CI_COMMIT_TITLE\"\n    - sh -c \"git log ${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME}\"\n    - bash -c \"echo $CI_COMMIT_REF_SLUG $CI_COMMIT_BRANCHES\"\n";
    let f = check(".gitlab-ci.yml", text, &p).unwrap();
    let got: Vec<(&str, usize)> = f.iter().map(|f| (f.check.as_str(), f.line)).collect();
    // Plain expansion (line 3) is data; the slug is sanitised and
    // CI_COMMIT_BRANCHES is not CI_COMMIT_BRANCH (line 6).
    assert_eq!(
        got,
        [("script-injection", 4), ("script-injection", 5)],
        "{f:?}"
    );
    assert!(
        f[0].message.contains("$CI_COMMIT_TITLE"),
        "{}",
        f[0].message
    );
    assert!(f[1].fix.contains("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"));
}

#[test]
fn publishing_with_stored_credentials() {
    let p = HardeningParams::default();
    let text = "release:\n  image: x@sha256:0c2cbe4b9b5e3f9a13f2f5f4f6e9a1c8d9f7b6a5e4d3c2b1a0f9e8d7c6b5a4f3\n  script:\n    - echo \"$DOCKERHUB_TOKEN\" | docker login -u acme --password-stdin\n    - docker push acme/app:1\n    - echo $CI_JOB_TOKEN\nsign:\n  image: x@sha256:0c2cbe4b9b5e3f9a13f2f5f4f6e9a1c8d9f7b6a5e4d3c2b1a0f9e8d7c6b5a4f3\n  id_tokens:\n    SIGSTORE_ID_TOKEN:\n      aud: sigstore\n  script:\n    - cosign sign --yes acme/app@sha256:abc\n";
    let f = check(".gitlab-ci.yml", text, &p).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].check, "publish-without-oidc");
    assert_eq!(f[0].line, 4);
    assert_eq!(f[0].job.as_deref(), Some("release"));
    assert!(f[0].message.contains("DOCKERHUB_TOKEN"));
    assert!(!f[0].message.contains("CI_JOB_TOKEN"));
}

/// A job `name` with `lines` script lines, each a script-injection
/// finding. The name is an explicit key (`? name`): YAML allows longer
/// ones than `name:`.
fn injections(name: &str, lines: usize) -> String {
    format!(
        "? {name}\n:\n  script:\n{}",
        "    - eval \"echo $CI_COMMIT_TITLE\"\n".repeat(lines)
    )
}

#[test]
fn long_job_names_are_cut_in_findings() {
    let p = HardeningParams::default();
    let at = "j".repeat(crate::ci::core::MAX_NAME_CHARS);
    let f = check(".gitlab-ci.yml", &injections(&at, 1), &p).unwrap();
    assert_eq!(f[0].job.as_deref(), Some(at.as_str()));
    assert!(f[0].message.contains(&format!("job `{at}` runs")));
    let f = check(".gitlab-ci.yml", &injections(&format!("{at}x"), 1), &p).unwrap();
    let cut = format!("{at}…");
    assert_eq!(f[0].job.as_deref(), Some(cut.as_str()));
    assert!(f[0].message.contains(&format!("job `{cut}` runs")));
}

#[test]
fn findings_are_capped() {
    let p = HardeningParams::default();
    let max = crate::ci::core::MAX_FINDINGS;
    let f = check(".gitlab-ci.yml", &injections("a", max), &p).unwrap();
    assert_eq!(f.len(), max);
    assert_eq!(f.last().unwrap().check, "script-injection");
    let f = check(".gitlab-ci.yml", &injections("a", max + 1), &p).unwrap();
    assert_eq!(f.len(), max + 1);
    let last = f.last().unwrap();
    assert_eq!(
        (last.rule.as_str(), last.check.as_str()),
        (super::super::workflow::RULE, "findings-omitted")
    );
    assert_eq!(last.line, max + 4);
    assert!(
        last.message.starts_with("1 more finding(s)"),
        "{}",
        last.message
    );
    // A 512 KB job name and 5 000 such lines (once 2.5 GB of copies):
    // 1 000 short findings.
    let big = "j".repeat(512 * 1024);
    let f = check(".gitlab-ci.yml", &injections(&big, 5_000), &p).unwrap();
    assert_eq!(f.len(), max + 1);
    assert!(f.iter().all(|f| f.message.len() < 1024));
    assert!(
        f[max].message.starts_with("4000 more"),
        "{}",
        f[max].message
    );
}

const PIN: &str = "@sha256:0c2cbe4b9b5e3f9a13f2f5f4f6e9a1c8d9f7b6a5e4d3c2b1a0f9e8d7c6b5a4f3";
const SHA: &str = "11bd71901bbe5b1630ceea73d27597364c9af683";

fn run(text: &str) -> Vec<Finding> {
    check(".gitlab-ci.yml", text, &HardeningParams::default()).unwrap()
}

/// `(check, line, job)` of each finding.
fn got(f: &[Finding]) -> Vec<(&str, usize, Option<&str>)> {
    f.iter()
        .map(|f| (f.check.as_str(), f.line, f.job.as_deref()))
        .collect()
}

#[test]
fn extends_a_hidden_template() {
    let f = run(".base:\n  image: python:latest\n  tags: [prod-runner]\nbuild:\n  extends: .base\n  script: [make]\n");
    assert_eq!(
        got(&f),
        [
            ("unpinned-image", 2, Some("build")),
            ("runner", 3, Some("build"))
        ],
        "{f:?}"
    );
    assert!(
        f[0].message
            .starts_with("image `python:latest` is not pinned")
            && f[0].message.contains("line 2 is outside job `build`"),
        "{}",
        f[0].message
    );
}

#[test]
fn several_parents_merge_in_order() {
    let text = format!(
        ".unpinned:\n  image: python:latest\n.pinned:\n  image: python{PIN}\n\
         a:\n  extends: [.unpinned, .pinned]\n  script: [x]\n\
         b:\n  extends: [.pinned, .unpinned]\n  script: [x]\n\
         c:\n  extends: [.pinned, .unpinned]\n  image: python{PIN}\n  script: [x]\n"
    );
    // The later parent wins; the job's own key wins over both.
    assert_eq!(got(&run(&text)), [("unpinned-image", 2, Some("b"))]);
    // Mappings are merged key by key: the name comes from the parent.
    let f = run(".img:\n  image:\n    name: python:latest\n    entrypoint: [\"\"]\nd:\n  extends: .img\n  image:\n    entrypoint: [\"/bin/sh\"]\n  script: [x]\n");
    assert_eq!(got(&f), [("unpinned-image", 3, Some("d"))]);
    // Lists are replaced, not merged.
    let f = run(&format!(".svc:\n  services: [postgres:latest]\n  tags: [prod]\ne:\n  extends: .svc\n  services: [\"postgres{PIN}\"]\n  tags: []\n  script: [x]\n"));
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn nested_extends() {
    let f = run(".a:\n  image: python:latest\n.b:\n  extends: .a\n  variables: {X: \"1\"}\n.c:\n  extends: .b\njob:\n  extends: .c\n  script: [x]\n");
    assert_eq!(got(&f), [("unpinned-image", 2, Some("job"))]);
    // A job and ten levels of templates: resolved; eleven: refused.
    let chain = |levels: usize| {
        let mut t = format!(".t{levels}:\n  image: python:latest\n");
        for i in (1..levels).rev() {
            t.push_str(&format!(".t{i}:\n  extends: .t{}\n", i + 1));
        }
        t + "job:\n  extends: .t1\n  script: [x]\n"
    };
    let f = run(&chain(MAX_EXTENDS_LEVELS - 1));
    assert_eq!(got(&f), [("unpinned-image", 2, Some("job"))], "{f:?}");
    let f = run(&chain(MAX_EXTENDS_LEVELS));
    assert_eq!(f[0].check, "unresolvable", "{f:?}");
    assert!(
        f[0].message.contains("deeper than 11 levels"),
        "{}",
        f[0].message
    );
    // A template first resolved for another job, higher up its chain,
    // is judged again from each job's own chain.
    let mut t = chain(MAX_EXTENDS_LEVELS - 1);
    t.insert_str(0, "early:\n  extends: .t5\n  script: [x]\n");
    let f = run(&t);
    assert!(f.iter().all(|f| f.check == "unpinned-image"), "{f:?}");
    let mut t = chain(MAX_EXTENDS_LEVELS);
    t.insert_str(0, "early:\n  extends: .t5\n  script: [x]\n");
    let f = run(&t);
    let late: Vec<_> = f
        .iter()
        .filter(|f| f.job.as_deref() == Some("job"))
        .collect();
    assert_eq!(late[0].check, "unresolvable", "{f:?}");
}

#[test]
fn references_pull_in_scripts() {
    let text = format!(
        ".setup:\n  script:\n    - eval \"echo $CI_COMMIT_TITLE\"\n\
         job:\n  image: alpine{PIN}\n  script:\n    - !reference [.setup, script]\n    - make\n"
    );
    let f = run(&text);
    assert_eq!(got(&f), [("script-injection", 3, Some("job"))], "{f:?}");
    // Nested references, and a reference to a template's `extends:`.
    let text = format!(
        ".inner:\n  script: [\"bash -c \\\"$CI_MERGE_REQUEST_TITLE\\\"\"]\n\
         .outer:\n  before_script:\n    - !reference [.inner, script]\n\
         .child:\n  extends: .outer\n\
         job:\n  image: alpine{PIN}\n  before_script: !reference [.child, before_script]\n  script: [make]\n"
    );
    let f = run(&text);
    assert_eq!(got(&f), [("script-injection", 2, Some("job"))], "{f:?}");
    // `image:` and `tags:` can be references too.
    let text = ".vals:\n  img: python:latest\n  runners: [shell]\njob:\n  image: !reference [.vals, img]\n  tags:\n    - !reference [.vals, runners]\n  script: [x]\n";
    let f = run(text);
    assert_eq!(
        got(&f),
        [
            ("unpinned-image", 2, Some("job")),
            ("runner", 7, Some("job"))
        ],
        "{f:?}"
    );
}

#[test]
fn references_that_cannot_be_resolved() {
    let cases = [
        (
            "job:\n  script: !reference [.nope, script]\n",
            "names `.nope`, which is not defined",
        ),
        (
            ".s:\n  x: 1\njob:\n  script: !reference [.s, script]\n",
            "names nothing: `.s` has no `script`",
        ),
        (
            ".x:\n  script: !reference [.y, script]\n.y:\n  script: !reference [.x, script]\njob:\n  script: !reference [.x, script]\n",
            "cycle of references",
        ),
        (
            "job:\n  script: !reference {a: b}\n",
            "not a list of names",
        ),
    ];
    for (text, why) in cases {
        let f = run(text);
        assert_eq!(f.len(), 1, "{text}: {f:?}");
        assert_eq!(f[0].check, "unresolvable");
        assert_eq!(f[0].job.as_deref(), Some("job"));
        assert!(f[0].message.contains(why), "{}", f[0].message);
    }
    // Ten nested references are read; eleven are refused.
    let nested = |n: usize| {
        let mut t = ".r0:\n  script: [\"eval $CI_COMMIT_MESSAGE\"]\n".to_owned();
        for i in 1..n {
            t.push_str(&format!(
                ".r{i}:\n  script: !reference [.r{}, script]\n",
                i - 1
            ));
        }
        t + &format!("job:\n  script: !reference [.r{}, script]\n", n - 1)
    };
    let f = run(&nested(MAX_REFERENCE_DEPTH));
    assert_eq!(got(&f), [("script-injection", 2, Some("job"))], "{f:?}");
    let f = run(&nested(MAX_REFERENCE_DEPTH + 1));
    assert_eq!(got(&f)[0].0, "unresolvable", "{f:?}");
    assert!(f[0].message.contains("more than 10 references deep"));
}

#[test]
fn merge_keys_and_aliases() {
    let f = run(".defaults: &defaults\n  image: python:latest\n  tags: [shell]\nbuild:\n  <<: *defaults\n  script: [make]\n");
    assert_eq!(
        got(&f),
        [
            ("unpinned-image", 2, Some("build")),
            ("runner", 3, Some("build"))
        ]
    );
    let f = run("variables:\n  IMG: &img python:latest\nbuild:\n  image: *img\n  script: [make]\n");
    assert_eq!(got(&f), [("unpinned-image", 2, Some("build"))]);
}

#[test]
fn alias_bombs_are_refused() {
    let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        doc.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    doc.push_str("job:\n  script: *a9\n");
    match check(".gitlab-ci.yml", &doc, &HardeningParams::default()) {
        Err(CiError::Invalid { message, .. }) => assert!(
            message.contains("more than 200000 nodes once aliases are expanded"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn extends_that_cannot_be_resolved() {
    let f = run(&format!(
        "a:\n  extends: b\n  image: python{PIN}\n  script: [x]\nb:\n  extends: a\n  script: [y]\n"
    ));
    assert_eq!(
        got(&f),
        [
            ("unresolvable", 6, Some("a")),
            ("unresolvable", 6, Some("b"))
        ],
        "{f:?}"
    );
    assert!(
        f[0].message.contains("`extends:` makes a cycle: a → b → a"),
        "{}",
        f[0].message
    );
    // An unknown parent (maybe from an include), a parent that is not
    // a mapping, a malformed `extends:`: said, and what can be seen is
    // still checked.
    let f = run("include:\n  - local: ci/templates.yml\njob:\n  extends: [.from-include, variables, {a: 1}]\n  image: python:latest\n  script: [x]\nvariables: [1]\n");
    assert_eq!(
        got(&f),
        [
            ("unresolvable", 2, None),
            ("unresolvable", 4, Some("job")),
            ("unresolvable", 4, Some("job")),
            ("unresolvable", 4, Some("job")),
            ("unpinned-image", 5, Some("job")),
        ],
        "{f:?}"
    );
    assert!(
        f[1].message.contains(
            "`.from-include`, which is not defined in this file (it may come from an `include:`"
        ),
        "{}",
        f[1].message
    );
    assert!(f[2].message.contains("not a job or template"));
    assert!(f[3].message.contains("neither a name nor a list"));
}

#[test]
fn pinned_images_pass_directly_and_through_extends() {
    let text = format!(
        ".base: &base\n  image: python{PIN}\n  services:\n    - name: postgres{PIN}\n\
         direct:\n  image: python{PIN}\n  script: [make]\n\
         inherited:\n  extends: .base\n  script: [make]\n\
         merged:\n  <<: *base\n  script: [make]\n"
    );
    let f = run(&text);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn includes_cairn_does_not_see() {
    let text = format!(
        "include:\n  - local: ci/build.yml\n  - template: Jobs/SAST.gitlab-ci.yml\n  - project: acme/templates\n    ref: {SHA}\n    file: /x.yml\n  - component: gitlab.com/acme/comp/build@1.2.0\n  - component: gitlab.com/acme/comp/build@{SHA}\n  - ci/other.yml\n"
    );
    let f = run(&text);
    assert_eq!(
        got(&f),
        [
            ("unresolvable", 2, None),
            ("unresolvable", 3, None),
            ("unresolvable", 4, None),
            ("unpinned-include", 7, None),
            ("unresolvable", 8, None),
            ("unresolvable", 9, None),
        ],
        "{f:?}"
    );
    assert!(f[0]
        .message
        .contains("`include: local: ci/build.yml` brings in configuration Cairn does not see"));
    assert!(f[3].fix.contains("@<40-hex commit sha>"));
}

#[test]
fn defaults_are_checked() {
    let f = run(".svc:\n  list: [postgres:latest]\ndefault:\n  services: !reference [.svc, list]\n  before_script:\n    - eval \"$CI_COMMIT_MESSAGE\"\n  tags: [shell]\nbefore_script:\n  - sh -c \"$CI_COMMIT_BRANCH\"\nbuild:\n  script: [make]\n");
    assert_eq!(
        got(&f),
        [
            ("script-injection", 9, None),
            ("unpinned-image", 2, None),
            ("script-injection", 6, None),
            ("runner", 7, None),
        ],
        "{f:?}"
    );
    assert!(f[1].message.starts_with("image `postgres:latest`"));
    assert!(f[3]
        .message
        .starts_with("`default:` runs on self-managed runners"));
}

/// Copies are bounded: 300 jobs extending a 2 000-node template would
/// copy 600 000 nodes. Past the bound, the rest is said, not passed.
#[test]
fn copying_is_bounded() {
    let mut text = format!(
        ".t:\n  image: python{PIN}\n  x: [{}]\n",
        vec!["a"; 2_000].join(", ")
    );
    for i in 0..300 {
        text.push_str(&format!("j{i}: {{extends: .t, script: [x]}}\n"));
    }
    let start = std::time::Instant::now();
    let f = run(&text);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].check, "unresolvable");
    assert!(
        f[0].message.contains(&format!(
            "more than Cairn's limit ({MAX_COPIED_NODES} nodes"
        )),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("job(s) after it are not checked"));
    // Under the bound, nothing to say.
    let small: String = text
        .lines()
        .take(3 + 150)
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(run(&small).is_empty());
}
/// Shapes that multiply copies or depth: bounded, quick, and said.
#[test]
fn hostile_shapes_are_bounded() {
    let quick = |text: &str| {
        let start = std::time::Instant::now();
        let f = run(text);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        f
    };
    // Ten references to the level below, ten levels: 10¹⁰ copies.
    let mut t = ".r0:\n  s: [\"eval $CI_COMMIT_TITLE\"]\n".to_owned();
    for i in 1..10 {
        let refs = vec![format!("!reference [.r{}, s]", i - 1); 10].join(", ");
        t.push_str(&format!(".r{i}:\n  s: [{refs}]\n"));
    }
    t.push_str("job:\n  script: !reference [.r9, s]\n");
    let f = quick(&t);
    assert_eq!(got(&f), [("unresolvable", 21, Some("job"))], "{f:?}");
    // Each template extends all ten of the level above: a diamond.
    let mut t = String::new();
    for l in 0..10 {
        for j in 0..10 {
            let parents: Vec<String> = (0..10).map(|p| format!(".l{}p{p}", l + 1)).collect();
            t.push_str(&format!(
                ".l{l}p{j}:\n  extends: [{}]\n  k{l}{j}: [a, b, c]\n",
                parents.join(", ")
            ));
        }
    }
    for j in 0..10 {
        t.push_str(&format!(".l10p{j}:\n  image: python:latest\n"));
    }
    for i in 0..50 {
        t.push_str(&format!("job{i}:\n  extends: .l0p0\n  script: [x]\n"));
    }
    let f = quick(&t);
    assert!(!f.is_empty(), "said, not passed");
    // Depth grows with each reference: 10 levels of 60-deep lists.
    let mut t = format!(
        ".d0:\n  v: {}python:latest{}\n",
        "[".repeat(60),
        "]".repeat(60)
    );
    for i in 1..10 {
        t.push_str(&format!(
            ".d{i}:\n  v: {}!reference [.d{}, v]{}\n",
            "[".repeat(60),
            i - 1,
            "]".repeat(60)
        ));
    }
    t.push_str("job:\n  services: !reference [.d9, v]\n  script: [x]\n");
    let f = quick(&t);
    assert_eq!(got(&f), [("unpinned-image", 2, Some("job"))], "{f:?}");
    // Thousands of unknown parents, each job: ten reasons kept per job.
    let names: Vec<String> = (0..5_000).map(|i| format!(".n{i}")).collect();
    let mut t = format!(".t:\n  extends: [{}]\n", names.join(", "));
    for i in 0..2_000 {
        t.push_str(&format!("j{i}: {{extends: .t, script: [x]}}\n"));
    }
    let f = quick(&t);
    assert!(f.iter().take(10).all(|f| f.job.as_deref() == Some("j0")));
    assert_eq!(f[10].job.as_deref(), Some("j1"));
    // Each job copies the 5 000-name `extends:` list too: the copy
    // bound ends it.
    let last = f.last().unwrap();
    assert!(last.message.contains("job(s) after it are not checked"));
    assert!(f.len() <= crate::ci::core::MAX_FINDINGS + 1);
}
