//! Sample and CSV files through a whole plan: the fuzzed bytes are the sample file of a
//! one-stanza app (a CSV sample in replay mode, and a plain one), checked like `eventgen check`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("eventgen-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(dir.join("samples"));
    let _ = std::fs::create_dir_all(dir.join("default"));
    let _ = std::fs::write(dir.join("samples/s.csv"), data);
    let _ = std::fs::write(dir.join("samples/s.log"), data);
    let _ = std::fs::write(
        dir.join("default/eventgen.conf"),
        "[s.csv]\nmode = replay\nsampletype = csv\ntimeField = _time\n\n[s.log]\n\
         token.0.token = \\d{4}-\\d{2}-\\d{2}\ntoken.0.replacementType = timestamp\n\
         token.0.replacement = %Y-%m-%d\n",
    );
    let sources = vec![eventgen::plan::ConfSource {
        files: vec![dir.join("default/eventgen.conf")],
        default_sample_dir: dir.join("samples"),
        app: None,
    }];
    let _ = eventgen::plan::build(&sources, &eventgen::plan::Overrides::default());
});
