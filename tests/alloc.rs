//! A counting global allocator shows that rendering events allocates nothing per event once
//! the worker's buffers have grown: two jobs of very different sizes allocate the same.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn no_allocation_per_event_in_steady_state() {
    use eventgen::generate::{Job, SharedCounters, Worker};
    use eventgen::output::Batch;
    use eventgen::plan::{self, ConfSource, Overrides};
    use std::sync::Arc;

    let dir = std::env::temp_dir().join(format!("eventgen-alloc-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("samples")).unwrap();
    std::fs::write(dir.join("samples/users"), "alice\nbob\ncarol\n").unwrap();
    std::fs::write(
        dir.join("samples/s.log"),
        "2024-01-01 00:00:00 @@ip user=@@user n=@@n x=@@f\n2024-01-01 00:00:00 other @@n @@ip r=@@r\n",
    )
    .unwrap();
    let conf = dir.join("eventgen.conf");
    std::fs::write(
        &conf,
        "[s.log]\noutputMode = stdout\n\
         token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\ntoken.0.replacementType = timestamp\ntoken.0.replacement = %Y-%m-%d %H:%M:%S\n\
         token.1.token = @@ip\ntoken.1.replacementType = random\ntoken.1.replacement = ipv4\n\
         token.2.token = @@user\ntoken.2.replacementType = file\ntoken.2.replacement = users\n\
         token.3.token = @@n\ntoken.3.replacementType = random\ntoken.3.replacement = integer[0:99999]\n\
         token.4.token = @@f\ntoken.4.replacementType = random\ntoken.4.replacement = float[0.00:9.99]\n\
         token.5.token = @@r\ntoken.5.replacementType = random\ntoken.5.replacement = list[\"ab1\", \"ab2\", \"cd\"]\n\
         token.6.token = ab\\d\ntoken.6.replacementType = static\ntoken.6.replacement = Z\n",
    )
    .unwrap();
    let src = ConfSource {
        files: vec![conf],
        default_sample_dir: dir.join("samples"),
        app: None,
    };
    let (plan, problems) = plan::build(&[src], &Overrides::default());
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    // The second line chains token 6 into token 5's value (a post-step that is not cacheable).
    assert_eq!(
        plan.samples[0].slow_events, 0,
        "both lines must take the fast path"
    );
    let plan = Arc::new(plan);
    let starts = Arc::new(vec![vec![]; plan.samples.len()]);
    let shared = Arc::new(SharedCounters::new(&plan, &starts, 0, 1));
    let mut worker = Worker::new(plan.clone(), shared);
    let job = |count: u64, seq: u64| Job {
        seq,
        sample: 0,
        earliest: 1_700_000_000_000_000,
        latest: 1_700_000_060_000_000,
        count,
        position: 0,
        counter_base: Vec::new(),
        rng_seed: 7,
        index: None,
        cycle: (0, 1),
        times: Vec::new(),
    };
    let mut batch = Batch::default();
    // Warm up with the larger job so every buffer has its final size.
    worker.run(&job(20_000, 0), &mut batch);
    let measure = |worker: &mut Worker, batch: &mut Batch, n: u64| {
        batch.clear();
        let before = ALLOCS.load(Ordering::Relaxed);
        worker.run(&job(n, 1), batch);
        ALLOCS.load(Ordering::Relaxed) - before
    };
    let small = measure(&mut worker, &mut batch, 100);
    let large = measure(&mut worker, &mut batch, 20_000);
    assert_eq!(batch.len(), 20_000);
    assert!(
        large <= small + 2,
        "allocations grow with events: {small} for 100 events, {large} for 20000"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
