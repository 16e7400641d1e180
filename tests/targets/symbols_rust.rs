// symbols_rust.rs - Rust leaks for symbolization, without crates.
//
// Built by Debian's rustc with -C opt-level=1 -g, twice: with the default
// (legacy) symbol mangling and with -C symbol-mangling-version=v0. The
// leaking functions are #[inline(never)]; Box::new and Vec::push are
// inlined into them. Lines the tests look for carry a "LINE: name" comment.
//
// The protocol is target.h's, through libc's own functions: block SIGUSR1
// and SIGTERM, print "ready <pid>" (stdout's buffer is allocated then,
// before memleakd attaches), sigwait for SIGUSR1 (SIGTERM first: exit 0),
// leak, print "done", sigwait for SIGTERM, exit 0.
//
// Rust's global allocator calls libc: __rust_alloc -> __rdl_alloc ->
// malloc, __rust_realloc -> __rdl_realloc -> realloc (alignments up to
// 16). After SIGUSR1, run_leaks() (called from main) makes three leaks:
//
//   symbols_rust::make_widget        40 x Box::leak(Box::new(Widget)),
//       Widget is 88 bytes: 40 x malloc(88) = 3520 bytes
//   symbols_rust::leak_boxed<Gadget> 30 x Box::leak of a Gadget, 152
//       bytes: 30 x malloc(152) = 4560 bytes (a generic function: v0 names
//       its type argument, legacy does not)
//   symbols_rust::grow_samples       12 Vec<u64> x 100 push: capacity 4,
//       then doubled by realloc, 8 -> ... -> 128: malloc(32), then realloc
//       to 64, 128, 256, 512 and 1024 bytes; each realloc retires the old
//       block (1 free + 1 alloc) and the survivor is recorded under the
//       last realloc's stack: 12 x 1024 = 12288 bytes in 12 blocks, 72
//       allocations, 60 frees
//
// Totals: outstanding_allocs 40 + 30 + 12 = 82, outstanding_bytes 20368,
// allocs 40 + 30 + 72 = 142, frees 60, unknown_frees 0. The vectors are
// leaked with Vec::leak, which keeps their capacity.

use std::io::Write;

#[repr(C)]
struct SigSet([u64; 16]);

const SIG_BLOCK: i32 = 0;
const SIGUSR1: i32 = 10;
const SIGTERM: i32 = 15;

extern "C" {
    fn sigemptyset(set: *mut SigSet) -> i32;
    fn sigaddset(set: *mut SigSet, sig: i32) -> i32;
    fn pthread_sigmask(how: i32, set: *const SigSet, old: *mut SigSet) -> i32;
    fn sigwait(set: *const SigSet, sig: *mut i32) -> i32;
    fn getpid() -> i32;
}

const WIDGETS: u64 = 40;
const GADGETS: usize = 30;
const VECTORS: usize = 12;
const SAMPLES: u64 = 100;

// Only id is read: the other fields give Widget its size.
#[allow(dead_code)]
pub struct Widget {
    id: u64,
    weight: f64,
    name: [u8; 72],
}

#[derive(Default)]
pub struct Gadget {
    parts: [u64; 19],
}

fn signals() -> SigSet {
    let mut set = SigSet([0; 16]);
    unsafe {
        sigemptyset(&mut set);
        sigaddset(&mut set, SIGUSR1);
        sigaddset(&mut set, SIGTERM);
    }
    set
}

fn wait_signal() -> i32 {
    let set = signals();
    let mut sig = 0;
    if unsafe { sigwait(&set, &mut sig) } != 0 {
        eprintln!("target: sigwait");
        std::process::exit(2);
    }
    sig
}

fn say(line: &str) {
    let mut out = std::io::stdout();
    writeln!(out, "{}", line).and_then(|_| out.flush()).expect("stdout");
}

#[inline(never)]
pub fn make_widget(id: u64) -> &'static mut Widget {
    Box::leak(Box::new(Widget { id, weight: id as f64 * 1.5, name: [0; 72] })) // LINE: widget_box
}

#[inline(never)]
pub fn leak_boxed<T: Default>() -> &'static mut T {
    Box::leak(Box::new(T::default())) // LINE: boxed_box
}

#[inline(never)]
pub fn grow_samples(count: u64) -> &'static mut [u64] {
    let mut samples = Vec::new();
    for i in 0..count {
        samples.push(i); // LINE: samples_push
    }
    samples.leak()
}

#[inline(never)]
fn run_leaks() -> u64 {
    let mut sum = 0;
    for i in 0..WIDGETS {
        sum += make_widget(i).id;
    }
    for _ in 0..GADGETS {
        sum += leak_boxed::<Gadget>().parts[0];
    }
    for _ in 0..VECTORS {
        sum += grow_samples(SAMPLES).len() as u64;
    }
    sum
}

fn main() {
    assert_eq!(std::mem::size_of::<Widget>(), 88);
    assert_eq!(std::mem::size_of::<Gadget>(), 152);
    unsafe {
        if pthread_sigmask(SIG_BLOCK, &signals(), std::ptr::null_mut()) != 0 {
            eprintln!("target: pthread_sigmask");
            std::process::exit(2);
        }
    }
    say(&format!("ready {}", unsafe { getpid() }));
    if wait_signal() == SIGTERM {
        std::process::exit(0);
    }
    let sum = run_leaks();
    say("done");
    while wait_signal() != SIGTERM {}
    std::process::exit(if sum > 0 { 0 } else { 3 });
}
