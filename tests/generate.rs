//! `eventgen generate` and `eventgen check` on small configurations.

use crate::support::*;

#[test]
fn shipped_default_config_builds_a_plan() {
    let o = run(&["check"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("weblog"), "{}", stdout(&o));
}

#[test]
fn count_and_end_multiply() {
    let d = TempDir::new("count-end");
    d.write("samples/s.log", "a @@n\nb @@n\n");
    let conf = d.write(
        "default/eventgen.conf",
        "[s.log]\noutputMode = stdout\ncount = 5\ninterval = 10\nend = 3\ntoken.0.token = @@n\ntoken.0.replacementType = random\ntoken.0.replacement = integer[1:9]\n",
    );
    let o = run(&[
        "generate",
        conf.to_str().unwrap(),
        "--now",
        "2024-01-01T00:00:00Z",
        "--seed",
        "1",
    ]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 15, "{out}");
    assert!(
        out.lines().all(|l| l.len() == 3 && !l.contains("@@")),
        "{out}"
    );
}
