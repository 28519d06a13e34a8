//! HubSpot's request budgets, kept on our side so the server rarely has to say no.
//!
//! Two budgets apply (CRM-APIS.md §1.12): the app's rolling 10-second budget (100 or 190) for
//! most endpoints, and the search API's own 5 requests per second, which is exempt from the
//! first. Both are GCRA limiters (governor) shaped so that no rolling window can ever exceed the
//! budget: a GCRA with burst `b` and one cell per `T/r` admits at most `b + r` requests in any
//! window of length `T`, so `b + r` is set to the budget, with a small burst to absorb jitter.

use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

/// The app budget's window.
pub const APP_WINDOW: Duration = Duration::from_secs(10);
/// Search requests allowed per second by HubSpot.
pub const SEARCH_PER_SECOND: u32 = 5;

/// Which budget a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// The app's rolling 10-second budget.
    App,
    /// The search API's per-second budget.
    Search,
    /// Exempt from the 10-second budget (associations v4 batch reads); still paced by the app
    /// limiter's burst so a burst of them cannot starve the rest.
    Exempt,
}

/// The limiters of one connector.
pub struct Limits {
    app: Limiter,
    search: Limiter,
}

/// A quota admitting at most `budget` requests in any window of `window`: burst + refills = budget.
pub fn window_quota(budget: u32, window: Duration) -> Quota {
    let budget = budget.max(2);
    // About 5% burst (at least one): enough to absorb scheduling jitter, small enough that the
    // sustained rate stays at 95% of the budget.
    let burst = (budget / 20).max(1);
    let refills = budget - burst;
    let period = window / refills;
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Limits {
    /// Limiters for an app budget of `requests_per_10s`; search stays one below its ceiling.
    pub fn new(requests_per_10s: u32) -> Limits {
        Limits {
            app: RateLimiter::direct(window_quota(requests_per_10s, APP_WINDOW)),
            search: RateLimiter::direct(window_quota(
                SEARCH_PER_SECOND - 1,
                Duration::from_secs(1),
            )),
        }
    }

    /// Waits until the request may go.
    pub async fn acquire(&self, budget: Budget) {
        match budget {
            Budget::App => self.app.until_ready().await,
            Budget::Search => self.search.until_ready().await,
            Budget::Exempt => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    /// Drives a limiter with a fake clock for 60 s, admitting greedily, and checks every rolling
    /// window — the property the issue asks for, without waiting in real time.
    fn max_in_any_window(budget: u32, window: Duration) -> (usize, usize) {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::direct_with_clock(window_quota(budget, window), clock.clone());
        let step = Duration::from_millis(1);
        let total = window * 6;
        let mut admitted: Vec<Duration> = Vec::new();
        let mut t = Duration::ZERO;
        while t < total {
            while limiter.check().is_ok() {
                admitted.push(t);
            }
            clock.advance(step);
            t += step;
        }
        let worst = admitted
            .iter()
            .map(|start| {
                admitted
                    .iter()
                    .filter(|&&x| x >= *start && x < *start + window)
                    .count()
            })
            .max()
            .unwrap_or(0);
        (worst, admitted.len())
    }

    #[test]
    fn no_window_exceeds_the_budget_and_most_of_it_is_used() {
        for budget in [100, 190] {
            let (worst, total) = max_in_any_window(budget, APP_WINDOW);
            assert!(worst <= budget as usize, "{worst} > {budget}");
            // Six windows' worth: at least 90% of the theoretical ceiling.
            let ceiling = 6 * budget as usize;
            assert!(total * 10 >= ceiling * 9, "{total} of {ceiling}");
        }
        let (worst, _) = max_in_any_window(SEARCH_PER_SECOND - 1, Duration::from_secs(1));
        assert!(worst < SEARCH_PER_SECOND as usize);
    }
}
