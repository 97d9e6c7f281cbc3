//! Tests of `parallel_map_min`'s threshold (issue 15, second sample: `items.len() < min_items` -> `<=` survived:
//! the results are the same either way, only where they are computed differs).

use super::parallel_map_min;
use std::thread;

/// From `min_items` items on the work runs on worker threads (when the machine has more than one core); one item
/// fewer runs on the caller's thread. The results keep the items' order either way.
#[test]
fn threads_are_used_from_min_items_on() {
    let caller = thread::current().id();
    let cores = thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let items = [10u32, 20, 30];
    let at = |item: &u32| (*item + 1, thread::current().id());
    // Fewer items than the threshold: all on the caller's thread.
    let below = parallel_map_min(&items[..2], 3, at);
    assert_eq!(below.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [11, 21]);
    assert!(below.iter().all(|(_, t)| *t == caller));
    // Exactly the threshold: on worker threads when there is more than one core.
    let at_threshold = parallel_map_min(&items, 3, at);
    assert_eq!(at_threshold.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [11, 21, 31]);
    if cores > 1 {
        assert!(at_threshold.iter().all(|(_, t)| *t != caller), "{at_threshold:?}");
    } else {
        assert!(at_threshold.iter().all(|(_, t)| *t == caller));
    }
}
