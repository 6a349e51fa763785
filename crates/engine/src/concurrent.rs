//! Running a batch of requests at once, with the results in the order asked.
//!
//! `StreamExt::buffered` gives results in order by holding back those that finish early,
//! and a result held back keeps its slot: one slow request stalls every slot behind it.
//! Requests are slow unevenly: the API server creates Services one at a time, cluster
//! wide (each holds the ClusterIP allocator's lock while it writes an IPAddress), so at
//! 16-way concurrency a Service create took 60 ms where a ConfigMap took 14. Here a slot is
//! free as soon as its request is done.

use std::future::Future;

use futures::StreamExt;

/// Requests in flight at once, for dry-runs, writes and reads alike: enough to keep the API
/// server busy, which answers them in parallel, where one at a time waits on its round
/// trips (kubectl's way).
pub(crate) const CONCURRENCY: usize = 16;

/// Runs `futures`, at most `limit` at a time, each started as soon as a slot is free;
/// their outputs in the order of `futures`.
pub(crate) async fn in_order<F: Future>(futures: Vec<F>, limit: usize) -> Vec<F::Output> {
    // The futures are wrapped before streaming, not by a closure inside the stream: that
    // would make the caller's future non-`Send` (a rustc limit on higher-ranked lifetimes),
    // and the controller runs plans and syncs on spawned tasks.
    let numbered: Vec<_> = futures
        .into_iter()
        .enumerate()
        .map(|(index, future)| async move { (index, future.await) })
        .collect();
    let mut done: Vec<(usize, F::Output)> = futures::stream::iter(numbered)
        .buffer_unordered(limit.max(1))
        .collect()
        .await;
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, output)| output).collect()
}

/// As [`in_order`], for requests that can fail: stops at the first failure (those still
/// in flight are dropped, those not started never start) — against an API server that
/// times out, running every remaining request first would take as many timeouts.
pub(crate) async fn try_in_order<T, E, F>(futures: Vec<F>, limit: usize) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>>,
{
    let numbered: Vec<_> = futures
        .into_iter()
        .enumerate()
        .map(|(index, future)| async move { future.await.map(|output| (index, output)) })
        .collect();
    let mut stream = futures::stream::iter(numbered).buffer_unordered(limit.max(1));
    let mut done = Vec::new();
    while let Some(result) = stream.next().await {
        done.push(result?);
    }
    done.sort_unstable_by_key(|(index, _)| *index);
    Ok(done.into_iter().map(|(_, output)| output).collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_request_still_running_holds_only_its_own_slot() {
        // Two slots. The first request finishes only once the last has run: with results
        // held back in their slots, the second slot would fill with a finished result and
        // the last request would never start.
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let release = Mutex::new(Some(release));
        let first = async {
            released.await.unwrap();
            "first"
        };
        let quick = |name: &'static str| {
            let release = &release;
            async move {
                if name == "last" {
                    release.lock().unwrap().take().unwrap().send(()).unwrap();
                }
                name
            }
        };
        let futures: Vec<std::pin::Pin<Box<dyn Future<Output = &str> + Send + '_>>> = vec![
            Box::pin(first),
            Box::pin(quick("second")),
            Box::pin(quick("third")),
            Box::pin(quick("last")),
        ];
        let done = tokio::time::timeout(Duration::from_secs(10), in_order(futures, 2))
            .await
            .expect("the later requests ran beside the first");
        assert_eq!(done, ["first", "second", "third", "last"]);
    }

    #[tokio::test]
    async fn the_first_failure_stops_the_rest() {
        // One slot: the second request fails, so the third never starts.
        let started = Mutex::new(Vec::new());
        let request = |n: u32| {
            let started = &started;
            async move {
                started.lock().unwrap().push(n);
                if n == 2 {
                    Err(format!("request {n} refused"))
                } else {
                    Ok(n)
                }
            }
        };
        let failed = try_in_order(vec![request(1), request(2), request(3)], 1).await;
        assert_eq!(failed, Err("request 2 refused".to_owned()));
        assert_eq!(*started.lock().unwrap(), [1, 2]);
        let ok = try_in_order(vec![request(3), request(1)], 2).await;
        assert_eq!(ok, Ok(vec![3, 1]));
    }
}
