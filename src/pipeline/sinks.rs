//! Opening the plan's outputs, registering their credentials with the logger, and the thread
//! that releases outputs blocked on an unreachable server when the run stops.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Instant;

use super::{FINISH_GRACE, STOP_POLL};
use crate::log;
use crate::metrics::Metrics;
use crate::output::Sink;
use crate::output::file::FileSink;
use crate::output::hec::HecSink;
use crate::output::net::{DatagramSink, TcpSink};
use crate::output::netcore::{NetStats, Shutdown};
use crate::output::splunkstream::SplunkStreamSink;
use crate::output::spool::SpoolSink;
use crate::output::stdout::{DevnullSink, StdoutSink};
use crate::plan::{OutputSpec, Plan};
use crate::signal::Done;

fn open_sink(
    spec: &OutputSpec,
    modinput_stream: bool,
    shutdowns: &mut Vec<Shutdown>,
    net_stats: &mut Option<Arc<NetStats>>,
) -> io::Result<Box<dyn Sink>> {
    Ok(match spec {
        OutputSpec::Hec { config, .. } => {
            let sink = HecSink::new(config.clone()).map_err(io::Error::other)?;
            shutdowns.push(sink.shutdown_handle());
            *net_stats = Some(sink.stats());
            Box::new(sink)
        }
        OutputSpec::SplunkStream(config) => {
            let sink = SplunkStreamSink::new(config.clone()).map_err(io::Error::other)?;
            shutdowns.push(sink.shutdown_handle());
            *net_stats = Some(sink.stats());
            Box::new(sink)
        }
        OutputSpec::S2s(config) => {
            let sink =
                crate::output::s2s::S2sSink::new(config.clone()).map_err(io::Error::other)?;
            shutdowns.push(sink.shutdown_handle());
            Box::new(sink)
        }
        OutputSpec::S3(config) => {
            let sink =
                crate::output::awss3::S3Sink::new(config.clone()).map_err(io::Error::other)?;
            shutdowns.push(sink.shutdown_handle());
            Box::new(sink)
        }
        OutputSpec::Syslog(c) => Box::new(DatagramSink::syslog(c)?),
        OutputSpec::Udp(c) => Box::new(DatagramSink::udp(c)?),
        OutputSpec::Tcp(c) => {
            let sink = TcpSink::new(c);
            shutdowns.push(sink.shutdown_handle());
            Box::new(sink)
        }
        OutputSpec::Stdout => Box::new(StdoutSink::stdout()?),
        OutputSpec::Modinput if modinput_stream => Box::new(StdoutSink::stdout_modinput()?),
        OutputSpec::Modinput => Box::new(StdoutSink::stdout_modinput_events()?),
        OutputSpec::Devnull => Box::new(DevnullSink::new()),
        OutputSpec::Counter => Box::new(crate::output::counter::CounterSink::default()),
        OutputSpec::File {
            path,
            max_bytes,
            backups,
        } => Box::new(FileSink::create(path, *max_bytes, *backups)?),
        OutputSpec::Spool { dir, file } => Box::new(SpoolSink::create(dir, file)?),
    })
}

/// Registers with the logger every credential of the plan's outputs (HEC tokens, splunkstream passwords), so no
/// message can show one, whoever writes it.
pub fn register_secrets(plan: &Plan) {
    for out in &plan.outputs {
        match out {
            OutputSpec::Hec { config, .. } => {
                for s in &config.servers {
                    log::global().add_secret(&s.token);
                }
            }
            OutputSpec::SplunkStream(config) => {
                for s in config.auth.secrets() {
                    log::global().add_secret(s);
                }
            }
            _ => {}
        }
    }
}

/// The plan's outputs, opened, in plan order.
pub(super) struct Opened {
    pub(super) sinks: Vec<Box<dyn Sink>>,
    /// Handles that release the outputs blocked on a server (see [`spawn_stop_watch`]).
    pub(super) shutdowns: Vec<Shutdown>,
}

/// One output of the pool: its spec, the sink while it is not lent to a segment, and what
/// was handed out when it was opened.
struct Pooled {
    spec: OutputSpec,
    sink: Option<Box<dyn Sink>>,
    shutdowns: Vec<Shutdown>,
    net_stats: Option<Arc<NetStats>>,
}

/// The outputs of a run, kept open across the segments of a reloading run: an output of a
/// new plan equal to an open one is that one (the same connections, file and modular input
/// stream), a new one is opened, and one no sample uses any more stays open, idle, until the
/// run ends.
#[derive(Default)]
pub(super) struct OutputPool {
    outputs: Vec<Pooled>,
}

impl OutputPool {
    /// Rewrites the plan's outputs as the pool's, followed by the plan's new ones, and points
    /// every sample at its output there.
    pub(super) fn adopt(&mut self, plan: &mut Plan) {
        let mut specs: Vec<OutputSpec> = self.outputs.iter().map(|p| p.spec.clone()).collect();
        let index: Vec<usize> = plan
            .outputs
            .iter()
            .map(|spec| match specs.iter().position(|s| s == spec) {
                Some(i) => i,
                None => {
                    specs.push(spec.clone());
                    specs.len() - 1
                }
            })
            .collect();
        for s in &mut plan.samples {
            s.output = index[s.output];
        }
        plan.outputs = specs;
    }

    /// Lends every output of `plan` (adopted) to a segment, opening the new ones, and gives
    /// the network outputs' delivery counters to `metrics`.
    pub(super) fn open(
        &mut self,
        plan: &Plan,
        modinput_stream: bool,
        metrics: &mut Metrics,
    ) -> io::Result<Opened> {
        let mut sinks = Vec::with_capacity(plan.outputs.len());
        let mut all_shutdowns = Vec::new();
        for (o, spec) in plan.outputs.iter().enumerate() {
            if o == self.outputs.len() {
                let mut shutdowns = Vec::new();
                let mut net_stats = None;
                let sink = open_sink(spec, modinput_stream, &mut shutdowns, &mut net_stats)
                    .map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!("cannot open output {}: {e}", spec.describe()),
                        )
                    })?;
                self.outputs.push(Pooled {
                    spec: spec.clone(),
                    sink: Some(sink),
                    shutdowns,
                    net_stats,
                });
            }
            let p = &mut self.outputs[o];
            sinks.push(p.sink.take().ok_or_else(|| {
                io::Error::other(format!("output {} is not open", spec.describe()))
            })?);
            all_shutdowns.extend(p.shutdowns.iter().cloned());
            if let Some(h) = &p.net_stats {
                metrics.set_net(o, h.clone());
            }
        }
        Ok(Opened {
            sinks,
            shutdowns: all_shutdowns,
        })
    }

    /// Takes back the outputs a segment kept open, in the order it was lent them.
    pub(super) fn give_back(&mut self, sinks: Vec<Box<dyn Sink>>) {
        for (p, sink) in self.outputs.iter_mut().zip(sinks) {
            p.sink = Some(sink);
        }
    }
}

/// A stop request (SIGTERM) also releases outputs blocked on an unreachable server, and so
/// does the end of the finish grace after the scheduler ended: a bounded run whose output
/// never takes its events ends (exit 1) instead of being held back forever.
pub(super) fn spawn_stop_watch(
    shutdowns: Vec<Shutdown>,
    stop: &Arc<AtomicBool>,
    done: &Arc<Done>,
    scheduled: &Arc<OnceLock<Instant>>,
) -> io::Result<JoinHandle<()>> {
    let (stop, done, scheduled) = (stop.clone(), done.clone(), scheduled.clone());
    std::thread::Builder::new()
        .name("stop-watch".into())
        .spawn(move || {
            loop {
                let overdue = scheduled.get().is_some_and(|t| t.elapsed() >= FINISH_GRACE);
                if stop.load(Ordering::Relaxed) || overdue {
                    for s in &shutdowns {
                        s.trigger();
                    }
                    break;
                }
                if done.wait(STOP_POLL) {
                    break;
                }
            }
        })
}
