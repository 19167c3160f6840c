//! The files under `deploy/`, which cannot be run here (no container engine, cluster or
//! deployment server): the container file's final stage, the Kubernetes manifest (valid YAML,
//! the fields docs/scale-out.md relies on, and the app it carries checked and run as a shard
//! by the binary), and the deployment server's server classes and their inputs.conf.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// Checks the final stage of a container file (everything after its last FROM, which must be
/// `scratch`) and returns the stages before it and the source of the one COPY.
#[track_caller]
fn final_stage_is_the_binary_alone(file: &str) -> (Vec<(String, String)>, String) {
    let all = instructions(&read(file));
    let last_from = all.iter().rposition(|(k, _)| k == "FROM").unwrap();
    assert_eq!(
        all[last_from].1, "scratch",
        "{file}: the final stage is empty"
    );
    let final_stage = &all[last_from + 1..];
    let get = |kw: &str| -> Vec<&str> {
        final_stage
            .iter()
            .filter(|(k, _)| k == kw)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    let copies = get("COPY");
    assert_eq!(copies.len(), 1, "{file}: {copies:?}");
    assert!(copies[0].ends_with(" /eventgen"), "{file}: {copies:?}");
    assert!(copies[0].contains("--chmod=0555"), "{file}: {copies:?}");
    // Non-root, numerically (runAsNonRoot cannot look names up in an empty image).
    assert_eq!(get("USER"), ["65532:65532"], "{file}");
    assert_eq!(exec_form(get("VOLUME")[0]), ["/app"]);
    assert_eq!(get("EXPOSE"), [METRICS_PORT.to_string().as_str()]);
    assert_eq!(exec_form(get("ENTRYPOINT")[0]), ["/eventgen"]);
    let cmd = exec_form(get("CMD")[0]);
    assert_eq!(cmd[..2], ["generate", "/app"]);
    assert!(cmd.windows(2).any(|w| w == ["--shard", "auto"]), "{cmd:?}");
    let metrics = cmd.iter().position(|a| a == "--metrics").unwrap();
    assert_eq!(cmd[metrics + 1], format!("0.0.0.0:{METRICS_PORT}"));
    let source = copies[0].rsplit(' ').nth(1).unwrap().to_string();
    (all[..last_from].to_vec(), source)
}

#[test]
fn offline_container_file_copies_package_sh_binary_onto_an_empty_image() {
    let (before, source) = final_stage_is_the_binary_alone("deploy/Containerfile");
    assert!(
        before.is_empty(),
        "no build stage, no base image: {before:?}"
    );
    assert_eq!(source, "dist/eventgen");
    // The build context keeps that file (and not the target folder).
    let ignore = read(".dockerignore");
    let lines: Vec<&str> = ignore.lines().map(str::trim).collect();
    assert!(lines.contains(&"!dist/eventgen"), "{ignore}");
    assert!(lines.contains(&"target/"), "{ignore}");
    // package.sh leaves it there.
    assert!(read("package.sh").contains("\"$dist/eventgen\""));
}

#[test]
fn source_container_file_compiles_a_static_binary_in_a_build_stage() {
    let (build, source) = final_stage_is_the_binary_alone("deploy/Containerfile.source");
    assert!(
        build.iter().any(|(k, a)| k == "RUN"
            && a.contains("cargo build --release")
            && a.contains("x86_64-unknown-linux-musl")
            && a.contains("+crt-static")),
        "{build:?}"
    );
    assert_eq!(source, "/eventgen");
}

/// `podman build --network none -f deploy/Containerfile` on a context laid out as the
/// repository is after package.sh (the test binary stands in for the release one), then the
/// image's layers, user and entry point, and the binary copied back out of the image runs.
/// Starting the container is not tried (it does not work in every sandbox).
#[test]
fn offline_image_builds_without_network_and_holds_only_the_binary() {
    if Command::new("podman")
        .arg("--version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return crate::skip::skipped("podman", "apt-get install podman");
    }
    if Command::new("podman")
        .arg("info")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return crate::skip::skipped("a working podman", "`podman info` fails here");
    }
    let work = std::env::temp_dir().join(format!("eventgen-image-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let context = work.join("context");
    std::fs::create_dir_all(context.join("deploy")).unwrap();
    let package = Command::new(repo("package.sh"))
        .env("EVENTGEN_BIN", env!("CARGO_BIN_EXE_eventgen"))
        .env("DIST_DIR", context.join("dist"))
        .output()
        .unwrap();
    assert!(
        package.status.success(),
        "package.sh: {}",
        String::from_utf8_lossy(&package.stderr)
    );
    for f in ["deploy/Containerfile", ".dockerignore"] {
        std::fs::copy(repo(f), context.join(f)).unwrap();
    }
    // Something the .dockerignore keeps out, which must not reach the image either way.
    std::fs::create_dir_all(context.join("target")).unwrap();
    std::fs::write(context.join("target/big"), "x").unwrap();
    let tag = format!("localhost/eventgen-test:{}", std::process::id());
    let podman = |args: &[&str]| {
        let out = Command::new("podman").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let ctx = context.to_str().unwrap();
    podman(&[
        "build",
        "--network",
        "none",
        "-f",
        &format!("{ctx}/deploy/Containerfile"),
        "-t",
        &tag,
        ctx,
    ]);
    let config = podman(&[
        "image",
        "inspect",
        &tag,
        "--format",
        "{{.Config.User}}|{{json .Config.Entrypoint}}|{{len .RootFS.Layers}}",
    ]);
    assert_eq!(config.trim(), r#"65532:65532|["/eventgen"]|1"#);
    // The one layer holds exactly one file: /eventgen, mode 0555, owned by root.
    let archive = work.join("image.tar");
    podman(&[
        "save",
        "--format",
        "docker-archive",
        "-o",
        archive.to_str().unwrap(),
        &tag,
    ]);
    let unpacked = work.join("image");
    std::fs::create_dir_all(&unpacked).unwrap();
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(untar.success());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(unpacked.join("manifest.json")).unwrap())
            .unwrap();
    let layers = manifest[0]["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    let listing = Command::new("tar")
        .arg("-tvf")
        .arg(unpacked.join(layers[0].as_str().unwrap()))
        .output()
        .unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    let entries: Vec<&str> = listing.lines().collect();
    assert_eq!(entries.len(), 1, "{listing}");
    let fields: Vec<&str> = entries[0].split_whitespace().collect();
    assert_eq!(fields[0], "-r-xr-xr-x", "{listing}");
    assert_eq!(fields[1], "0/0", "{listing}");
    assert_eq!(fields.last().unwrap().trim_start_matches('/'), "eventgen");
    // Copied back out of the image, the binary runs.
    let name = format!("eventgen-test-{}", std::process::id());
    podman(&["create", "--name", &name, &tag]);
    let out_bin = work.join("eventgen");
    podman(&[
        "cp",
        &format!("{name}:/eventgen"),
        out_bin.to_str().unwrap(),
    ]);
    podman(&["rm", &name]);
    podman(&["rmi", &tag]);
    let version = Command::new(&out_bin).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8(version.stdout).unwrap().trim(),
        format!("eventgen {}", env!("CARGO_PKG_VERSION"))
    );
    let _ = std::fs::remove_dir_all(&work);
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

fn named<'a>(docs: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} named {name}"))
}

/// The files the Job's projected volume `volume` holds: (path inside it, contents).
fn projected(docs: &[Yaml], volume: &str) -> Vec<(String, String)> {
    let job = kind(docs, "Job");
    let pod = &job["spec"]["template"]["spec"];
    let volume = list(&pod["volumes"], "volumes")
        .iter()
        .find(|v| v["name"].as_str() == Some(volume))
        .unwrap_or_else(|| panic!("a volume named {volume}"));
    let mut files = Vec::new();
    for source in list(&volume["projected"]["sources"], "projected sources") {
        let (obj, data) = if !source["configMap"].is_badvalue() {
            let name = text(&source["configMap"]["name"], "configMap name");
            (
                &source["configMap"],
                &named(docs, "ConfigMap", name)["data"],
            )
        } else {
            let name = text(&source["secret"]["name"], "secret name");
            (
                &source["secret"],
                &named(docs, "Secret", name)["stringData"],
            )
        };
        for item in list(&obj["items"], "items") {
            let key = text(&item["key"], "key");
            let content = text(&data[key], key);
            files.push((text(&item["path"], "path").to_string(), content.to_string()));
        }
    }
    files
}

/// Where the Job mounts volume `name`.
fn mount_path<'a>(docs: &'a [Yaml], name: &str) -> &'a str {
    let c = &kind(docs, "Job")["spec"]["template"]["spec"]["containers"][0];
    let mount = list(&c["volumeMounts"], "volumeMounts")
        .iter()
        .find(|v| v["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no mount of {name}"));
    assert_eq!(mount["readOnly"].as_bool(), Some(true), "{name}");
    text(&mount["mountPath"], "mountPath")
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
    // The app folder from the ConfigMap; the token and CA bundle from two Secrets, mounted as
    // files that eventgen.conf names.
    assert_eq!(mount_path(&docs, "app"), "/app");
    let files = projected(&docs, "app");
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"default/eventgen.conf"), "{paths:?}");
    let hec = mount_path(&docs, "hec");
    let secrets = projected(&docs, "hec");
    let names: Vec<&str> = secrets.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["token", "ca.crt"]);
    assert!(secrets[1].1.contains("BEGIN CERTIFICATE"));
    let conf = &files
        .iter()
        .find(|(p, _)| p == "default/eventgen.conf")
        .unwrap()
        .1;
    assert!(
        conf.contains(&format!("\"key\":\"${{file:{hec}/token}}\"")),
        "{conf}"
    );
    assert!(conf.contains(&format!("httpeventCaFile = {hec}/ca.crt")));
    assert!(
        !conf.contains(&secrets[0].1),
        "the token belongs in the Secret"
    );
}

/// The Job's app and Secrets as files: the app folder, and the HEC mount (with a real CA
/// certificate instead of the placeholder) at a temporary path the conf is pointed to.
fn materialized_job(docs: &[Yaml], tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    let hec = mount_path(docs, "hec");
    let hec_here = dir.path().join("hec-mount");
    for (path, content) in projected(docs, "app") {
        dir.write(
            &format!("app/{path}"),
            &content.replace(hec, hec_here.to_str().unwrap()),
        );
    }
    let ca = rcgen::generate_simple_self_signed(vec!["splunk-hec.example".to_string()]).unwrap();
    for (path, content) in projected(docs, "hec") {
        let content = if path == "ca.crt" {
            ca.cert.pem()
        } else {
            content + "\n"
        };
        dir.write(&format!("hec-mount/{path}"), &content);
    }
    dir
}

#[test]
fn kubernetes_app_checks_clean_and_runs_as_a_shard() {
    let docs = docs();
    let job_dir = materialized_job(&docs, "deploy-k8s-app");
    let o = run_in(&job_dir.path().join("app"), &["check", "."]);
    assert_code(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("output=httpevent https://"),
        "{}",
        stdout(&o)
    );
    // Without the token file, the sample cannot run, and the error names the reference.
    std::fs::remove_file(job_dir.path().join("hec-mount/token")).unwrap();
    let o = run_in(&job_dir.path().join("app"), &["check", "."]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("httpeventServers: server 1: \"key\": ${file:"),
        "{}",
        stderr(&o)
    );
    let dir = TempDir::new("deploy-k8s-shard");
    for (path, content) in projected(&docs, "app") {
        dir.write(&path, &content);
    }
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
        // Installing the input and its instances needs a restart; the load does not (the
        // running input reloads it).
        let restart = |app: &str| {
            sc.iter()
                .find(|s| s.name == format!("serverClass:{class}:app:{app}"))
                .and_then(|s| s.settings.value("restartSplunkd"))
                .map(str::to_string)
        };
        for app in &apps {
            let want = if *app == "eventgen_load" {
                "false"
            } else {
                "true"
            };
            assert_eq!(restart(app).as_deref(), Some(want), "{class}: {app}");
            if *app != "SA-Eventgen" {
                let app_conf = conf(&format!(
                    "deploy/deployment-server/deployment-apps/{app}/default/app.conf"
                ));
                let package = app_conf.iter().find(|s| s.name == "package").unwrap();
                assert_eq!(package.settings.value("id"), Some(*app));
            }
        }
        assert!(apps.contains(&"eventgen_load"), "{class}: {apps:?}");
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

/// The load app the deployment server pushes checks clean and generates through the modular
/// input's output (its default outputMode).
#[test]
fn deployment_server_load_app_checks_clean() {
    let app = repo("deploy/deployment-server/deployment-apps/eventgen_load");
    let o = run(&["check", app.to_str().unwrap()]);
    assert_code(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let o = run(&[
        "generate",
        app.to_str().unwrap(),
        "--now",
        NOW,
        "-e",
        "2",
        "--output",
        "stdout",
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o).lines().count(), 2 * 500);
}
