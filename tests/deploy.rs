//! The files under `deploy/`, which cannot be run here (no container engine, cluster or
//! deployment server): the container file's final stage, the Kubernetes manifest (valid YAML,
//! the fields docs/scale-out.md relies on, and the app it carries checked and run as a shard
//! by the binary), and the deployment server's server classes and their inputs.conf.

use std::path::{Path, PathBuf};

use eventgen::conf::parse_conf;
use eventgen::modinput::validate::validate_params;
use eventgen::modinput::{Param, ParamValue};
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::*;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The metrics port the deployment files agree on.
const METRICS_PORT: i64 = 9108;

/// Container file instructions: (KEYWORD, arguments), continuation lines joined, comments out.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if current.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(t);
        let (kw, args) = current.split_once(' ').unwrap_or((&current, ""));
        out.push((kw.to_ascii_uppercase(), args.trim().to_string()));
        current.clear();
    }
    out
}

/// A JSON-array (exec form) argument list.
#[track_caller]
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("not an exec-form list: {args}: {e}"))
}

#[test]
fn container_file_puts_the_static_binary_on_an_empty_image_as_non_root() {
    let all = instructions(&read("deploy/Containerfile"));
    let last_from = all.iter().rposition(|(k, _)| k == "FROM").unwrap();
    assert_eq!(all[last_from].1, "scratch", "the final stage is empty");
    let build: Vec<&(String, String)> = all[..last_from].iter().collect();
    let final_stage = &all[last_from + 1..];
    let get = |kw: &str| -> Vec<&str> {
        final_stage
            .iter()
            .filter(|(k, _)| k == kw)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    // The build stage makes a static musl binary; the final stage copies only that.
    assert!(
        build.iter().any(|(k, a)| k == "RUN"
            && a.contains("cargo build --release")
            && a.contains("x86_64-unknown-linux-musl")
            && a.contains("+crt-static")),
        "{build:?}"
    );
    let copies = get("COPY");
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].contains("--from=build") && copies[0].ends_with(" /eventgen"));
    // Non-root, numerically (runAsNonRoot cannot look names up in an empty image).
    let user = get("USER");
    assert_eq!(user.len(), 1);
    let uid: u32 = user[0]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric USER");
    assert_ne!(uid, 0);
    assert_eq!(exec_form(get("VOLUME")[0]), ["/app"]);
    assert_eq!(get("EXPOSE"), [METRICS_PORT.to_string().as_str()]);
    assert_eq!(exec_form(get("ENTRYPOINT")[0]), ["/eventgen"]);
    let cmd = exec_form(get("CMD")[0]);
    assert_eq!(cmd[..2], ["generate", "/app"]);
    assert!(cmd.windows(2).any(|w| w == ["--shard", "auto"]), "{cmd:?}");
    let metrics = cmd.iter().position(|a| a == "--metrics").unwrap();
    assert_eq!(cmd[metrics + 1], format!("0.0.0.0:{METRICS_PORT}"));
}

fn docs() -> Vec<Yaml> {
    YamlLoader::load_from_str(&read("deploy/kubernetes/eventgen-job.yaml"))
        .expect("the manifest is valid YAML")
}

fn kind<'a>(docs: &'a [Yaml], kind: &str) -> &'a Yaml {
    let found: Vec<&Yaml> = docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

#[track_caller]
fn text<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {y:?}"))
}

#[track_caller]
fn list<'a>(y: &'a Yaml, what: &str) -> &'a Vec<Yaml> {
    y.as_vec()
        .unwrap_or_else(|| panic!("{what} is not a list: {y:?}"))
}

/// The app folder the Job's projected volume builds: (path under /app, contents).
fn projected_app(docs: &[Yaml]) -> Vec<(String, String)> {
    let job = kind(docs, "Job");
    let pod = &job["spec"]["template"]["spec"];
    let volume = list(&pod["volumes"], "volumes")
        .iter()
        .find(|v| v["name"].as_str() == Some("app"))
        .expect("a volume named app");
    let mut files = Vec::new();
    for source in list(&volume["projected"]["sources"], "projected sources") {
        let (obj, data) = if !source["configMap"].is_badvalue() {
            let cm = kind(docs, "ConfigMap");
            assert_eq!(source["configMap"]["name"], cm["metadata"]["name"]);
            (&source["configMap"], &cm["data"])
        } else {
            let secret = kind(docs, "Secret");
            assert_eq!(source["secret"]["name"], secret["metadata"]["name"]);
            (&source["secret"], &secret["stringData"])
        };
        for item in list(&obj["items"], "items") {
            let key = text(&item["key"], "key");
            let content = text(&data[key], key);
            files.push((text(&item["path"], "path").to_string(), content.to_string()));
        }
    }
    files
}

#[test]
fn kubernetes_job_is_an_indexed_job_of_auto_shards_with_metrics_and_a_secret_token() {
    let docs = docs();
    let job = kind(&docs, "Job");
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_i64().expect("completions");
    assert!(n >= 2);
    assert_eq!(
        spec["parallelism"].as_i64(),
        Some(n),
        "parallelism = completions"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert!(pod["securityContext"]["runAsUser"].as_i64().unwrap() > 0);
    let containers = list(&pod["containers"], "containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert!(!text(&c["image"], "image").is_empty());
    let args: Vec<&str> = list(&c["args"], "args")
        .iter()
        .map(|a| text(a, "arg"))
        .collect();
    assert_eq!(args[..2], ["generate", "/app"]);
    assert!(
        args.windows(2).any(|w| w == ["--shard", "auto"]),
        "{args:?}"
    );
    let m = args.iter().position(|a| *a == "--metrics").unwrap();
    assert_eq!(args[m + 1], format!("0.0.0.0:{METRICS_PORT}"));
    // N for --shard auto: EVENTGEN_SHARDS equals completions.
    let shards = list(&c["env"], "env")
        .iter()
        .find(|e| e["name"].as_str() == Some("EVENTGEN_SHARDS"))
        .expect("EVENTGEN_SHARDS");
    assert_eq!(text(&shards["value"], "EVENTGEN_SHARDS"), n.to_string());
    // The metrics port, declared and annotated.
    let port = list(&c["ports"], "ports")
        .iter()
        .find(|p| p["name"].as_str() == Some("metrics"))
        .expect("a port named metrics");
    assert_eq!(port["containerPort"].as_i64(), Some(METRICS_PORT));
    let ann = &spec["template"]["metadata"]["annotations"];
    assert_eq!(ann["prometheus.io/port"].as_str(), Some("9108"));
    // The app folder from the ConfigMap and the token from the Secret.
    let mount = list(&c["volumeMounts"], "volumeMounts")
        .iter()
        .find(|v| v["name"].as_str() == Some("app"))
        .unwrap();
    assert_eq!(mount["mountPath"].as_str(), Some("/app"));
    let files = projected_app(&docs);
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"default/eventgen.conf"), "{paths:?}");
    assert!(paths.contains(&"local/eventgen.conf"), "{paths:?}");
    let cm = kind(&docs, "ConfigMap");
    let secret = kind(&docs, "Secret");
    let cm_text: String = cm["data"]
        .as_hash()
        .unwrap()
        .values()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(
        !cm_text.contains("httpeventServers"),
        "the token belongs in the Secret"
    );
    assert!(text(&secret["stringData"]["eventgen.conf"], "secret").contains("\"key\""));
}

#[test]
fn kubernetes_app_checks_clean_and_runs_as_a_shard() {
    let docs = docs();
    let dir = TempDir::new("deploy-k8s-app");
    for (path, content) in projected_app(&docs) {
        dir.write(&path, &content);
    }
    let o = run_in(dir.path(), &["check", "."]);
    assert_code(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("output=httpevent https://"),
        "{}",
        stdout(&o)
    );
    // What pod 1 of the Job would generate in its first four seconds (to stdout here), against
    // the whole run's second interval: the count is the Job's, whatever N is.
    let job = kind(&docs, "Job");
    let n = job["spec"]["completions"].as_i64().unwrap().to_string();
    let run = |env: &[(&str, &str)], extra: &[&str]| {
        let mut cmd = std::process::Command::new(bin());
        cmd.args(["generate", ".", "--now", NOW, "--seed", "1", "-e", "4"])
            .args(["--output", "stdout"])
            .args(extra)
            .current_dir(dir.path())
            .env("TZ", "UTC");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = output_within(cmd, APP_DEADLINE);
        assert_code(&o, 0);
        stdout(&o)
    };
    let pod1 = run(
        &[("JOB_COMPLETION_INDEX", "1"), ("EVENTGEN_SHARDS", &n)],
        &["--shard", "auto"],
    );
    let whole = run(&[], &[]);
    let lines: Vec<&str> = whole.lines().collect();
    assert_eq!(lines.len(), 4 * 2000);
    assert_eq!(pod1, lines[2000..4000].join("\n") + "\n");
}

fn conf(rel: &str) -> Vec<eventgen::conf::Stanza> {
    let (stanzas, problems) = parse_conf(&repo(rel), &read(rel));
    assert!(problems.is_empty(), "{rel}: {problems:?}");
    stanzas
}

#[test]
fn deployment_server_gives_two_forwarder_groups_different_shards() {
    let sc = conf("deploy/deployment-server/serverclass.conf");
    let classes: Vec<&str> = sc
        .iter()
        .filter_map(|s| s.name.strip_prefix("serverClass:"))
        .filter(|n| !n.contains(':'))
        .collect();
    assert_eq!(classes.len(), 2, "{classes:?}");
    let mut shards = Vec::new();
    for class in classes {
        let whitelist = sc
            .iter()
            .find(|s| s.name == format!("serverClass:{class}"))
            .and_then(|s| s.settings.value("whitelist.0"))
            .unwrap_or_else(|| panic!("{class} has no whitelist.0"));
        assert!(!whitelist.is_empty());
        let apps: Vec<&str> = sc
            .iter()
            .filter_map(|s| s.name.strip_prefix(&format!("serverClass:{class}:app:")))
            .collect();
        assert!(apps.contains(&"SA-Eventgen"), "{class}: {apps:?}");
        let shard_apps: Vec<&&str> = apps
            .iter()
            .filter(|a| a.starts_with("eventgen_shard_"))
            .collect();
        assert_eq!(shard_apps.len(), 1, "{class}: {apps:?}");
        let inputs = conf(&format!(
            "deploy/deployment-server/deployment-apps/{}/local/inputs.conf",
            shard_apps[0]
        ));
        assert_eq!(inputs.len(), 1);
        assert!(inputs[0].name.starts_with("modinput_eventgen://"));
        let params: Vec<Param> = inputs[0]
            .settings
            .iter()
            .map(|(k, v)| Param {
                name: k.clone(),
                value: ParamValue::Single(v.value.clone()),
            })
            .collect();
        assert_eq!(validate_params(&params), Ok(()), "{}", shard_apps[0]);
        assert_eq!(inputs[0].settings.value("disabled"), Some("false"));
        shards.push(inputs[0].settings.value("shard").unwrap().to_string());
    }
    shards.sort();
    assert_eq!(shards, ["0/2", "1/2"]);
}
