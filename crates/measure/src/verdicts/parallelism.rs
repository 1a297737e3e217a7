//! Parallel or not, from a batch of CPU-bound requests against one alone: a speed-up, the
//! server's CPU time, or two blocking requests held at once prove it; no speed-up shows one
//! thread only where the machine had cores to spare; anything else cannot tell.

use std::time::Duration;

/// A batch of CPU-bound requests at once ran "in parallel" when it did at least this many
/// times the work per second of one request alone. One thread can reach at most 1.0; two
/// cores up to 2.0. 1.3 leaves room for a busy second core, and for noise on one thread.
pub const PARALLEL_SPEEDUP: f64 = 1.3;

/// ...and when its last answer came at most this share of the batch's size times later than
/// its first. One thread answers a batch of n requests one after another, at about 1, 2, …,
/// n times one request's cost (a spread of n); two cores at about 1, 1, 2, 2, … (n/2), more
/// cores closer still. 0.75 is between the two: for the check's batch of 4, a spread of 3.
/// A stall while the "alone" request is measured can fake the speed-up, but not the spread
/// as well.
pub const PARALLEL_SPREAD: f64 = 0.75;

/// A batch cannot do more work per second than the machine has cores: a speed-up above this
/// many times the cores means a stall slowed the request measured alone, and the batch says
/// nothing (a one-thread server was once measured at 4.9× on a 2-core machine under load).
pub const PLAUSIBLE_PER_CORE: f64 = 1.25;

/// The evidence is asymmetric: one thread can never do more than one core's work per second,
/// so a speed-up proves parallelism however busy the machine is, but a missing speed-up
/// proves nothing unless the machine had cores to spare at that moment. Where the OS does not
/// count that during the batch ([`IDLE_CORES_FOR_ONE_THREAD`]), the tools measure it with a
/// calibration of their own just before and right after each batch (the lower of the two): a
/// few threads that only compute, alone and then together ([`crate::system::spare_cores`]).
/// Their speed-up is what a perfectly parallel server could have shown then: about 2.0 on an
/// idle 2-core machine, 1.1 to 1.5 beside two busy loops (once 2.04, hence two of them). Only
/// at or above this is a batch without a speed-up evidence of one thread; below it, the
/// verdict is "cannot tell: the machine was busy". 1.7 is well above what two busy loops leave
/// (1.5), and below an idle machine's.
pub const SPARE_CORES_FOR_ONE_THREAD: f64 = 1.7;

/// Where the OS counts the machine's idle time during the batch (Linux), at least this many
/// cores' worth of it must have been idle for a batch without a speed-up to show one thread:
/// a server on one thread leaves the other core of two idle (about 0.9 of it, the client's
/// threads take the rest); beside busy loops or a build, almost none is.
pub const IDLE_CORES_FOR_ONE_THREAD: f64 = 0.6;

/// And where the server's own CPU time is counted, it must have kept at least this much of a
/// core busy: a server on one thread that computes runs that core flat out (about 1.0). Less
/// means it waited for a core the machine did not give it, which says nothing.
pub const ONE_CORE_FLAT_OUT: f64 = 0.75;

/// ...and the batch's own speed-up must then be at most this: one thread does about 1.0.
/// Between this and [`PARALLEL_SPEEDUP`], a batch shows neither.
pub const ONE_THREAD_SPEEDUP: f64 = 1.15;

/// Where the server is the tools' own child, the OS counts the CPU time its threads used
/// during the batch. One thread cannot use more than one core-second per second, so CPU time
/// above this many times the batch's wall time (plus [`CPU_TIME_GRAIN`]) proves parallelism,
/// whatever the clock says. Beside busy loops the server gets less than that, and this proves
/// nothing either way: it only ever adds a proof.
pub const PARALLEL_CPU_PER_SECOND: f64 = 1.2;

/// How finely the OS counts a process's CPU time: `/proc` and `ps` in 10 ms ticks. Two ticks
/// of error are allowed on top of [`PARALLEL_CPU_PER_SECOND`].
pub const CPU_TIME_GRAIN: Duration = Duration::from_millis(20);

/// Two requests that each block their thread for `delay`, sent at once, were held at the same
/// time when both were answered before this share of the delay: one thread would answer the
/// second only after twice the delay. 1.5 is halfway, for a busy machine's stalls.
pub const BLOCKED_AT_ONCE: f64 = 1.5;

/// How long two blocking requests at once may take and still have been held at the same time.
pub fn blocked_at_once(delay: Duration) -> Duration {
    delay.mul_f64(BLOCKED_AT_ONCE)
}

/// What one batch of CPU-bound requests, sent at once, showed against one request alone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuBatch {
    /// How many requests the batch had.
    pub size: usize,
    /// The batch's work per second relative to one request alone: `size × alone ÷ together`.
    /// About the number of cores that were busy.
    pub speedup: f64,
    /// How many times later the batch's last answer came than its first.
    pub spread: f64,
    /// How many cores the machine has: the most a batch can keep busy.
    pub cores: usize,
    /// The batch's wall time: from its send to its last answer.
    pub together: Duration,
    /// The CPU time the server's process used during the batch, as the OS counts it. `None`
    /// where it was not measured (the server is not the tools' child, or this OS has no cheap
    /// way to ask).
    pub server_cpu: Option<Duration>,
    /// The speed-up a calibration of the tools' own got just before and right after the batch
    /// (the lower): what a perfectly parallel server could have shown at that moment. `None`
    /// where not measured.
    pub spare: Option<f64>,
    /// The machine's idle CPU time during the batch, all cores together, where the OS tells
    /// it ([`crate::system::idle_time`]).
    pub idle: Option<Duration>,
}

/// What one batch shows about parallelism: shown, shown not to hold, or cannot tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parallelism {
    /// Several cores at once, and what proved it.
    Parallel(Proof),
    /// Taking turns on one core, while the machine had cores to spare.
    OneThread,
    /// Neither can be said: no speed-up, but the machine had no cores to spare (or the
    /// numbers fell between the two edges).
    CannotTell,
}

/// What proved that a server runs its handlers on several cores at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// The OS counted more than one core-second per second of CPU time for the server.
    CpuTime,
    /// A batch did more work per second than one request alone, with answers close together.
    SpeedUp,
    /// Two requests that block their thread were held at the same moment, each answered by a
    /// different thread (`X-Served-By`): the handlers run on several threads at once. Load
    /// cannot fake this (blocking uses no core) and cannot hide it.
    BlockedAtOnce,
}

impl CpuBatch {
    /// From the latency of one request `alone`, the latencies of the batch's requests, the
    /// time from the batch's send to its last answer, and the machine's cores. `None` without
    /// a batch.
    pub fn measure(
        alone: Duration,
        batch: &[Duration],
        together: Duration,
        cores: usize,
    ) -> Option<CpuBatch> {
        let first = batch.iter().min()?;
        let last = batch.iter().max()?;
        if together.is_zero() {
            return None;
        }
        Some(CpuBatch {
            size: batch.len(),
            speedup: alone.as_secs_f64() * batch.len() as f64 / together.as_secs_f64(),
            spread: last.as_secs_f64() / first.as_secs_f64().max(f64::EPSILON),
            cores: cores.max(1),
            together,
            server_cpu: None,
            spare: None,
            idle: None,
        })
    }

    /// With what was measured beside the batch: each reading that was taken.
    pub fn beside(mut self, beside: crate::system::BesideBatch) -> CpuBatch {
        self.spare = beside.spare.or(self.spare);
        self.server_cpu = beside.server_cpu.or(self.server_cpu);
        self.idle = beside.idle.or(self.idle);
        self
    }

    /// With the server's CPU time during the batch.
    pub fn with_server_cpu(mut self, cpu: Duration) -> CpuBatch {
        self.server_cpu = Some(cpu);
        self
    }

    /// The server's CPU time per second of the batch: about how many cores it kept busy.
    pub fn server_cores(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        (!self.together.is_zero()).then(|| cpu.as_secs_f64() / self.together.as_secs_f64())
    }

    /// With the machine's idle time during the batch.
    pub fn with_idle(mut self, idle: Duration) -> CpuBatch {
        self.idle = Some(idle);
        self
    }

    /// How many cores were idle during the batch, on average.
    pub fn idle_cores(&self) -> Option<f64> {
        let idle = self.idle?;
        (!self.together.is_zero()).then(|| idle.as_secs_f64() / self.together.as_secs_f64())
    }

    /// Whether the machine had cores to spare while the batch ran: by its idle time where the
    /// OS counts it, and by the calibration beside it; both where both were measured. Unknown
    /// counts as no.
    pub fn had_spare_cores(&self) -> bool {
        let idle = self
            .idle_cores()
            .map(|idle| idle >= IDLE_CORES_FOR_ONE_THREAD);
        let spare = self.spare.map(|spare| spare >= SPARE_CORES_FOR_ONE_THREAD);
        match (idle, spare) {
            (None, None) => false,
            (idle, spare) => idle.unwrap_or(true) && spare.unwrap_or(true),
        }
    }

    /// With the speed-up of the calibration measured beside the batch.
    pub fn with_spare(mut self, spare: f64) -> CpuBatch {
        self.spare = Some(spare);
        self
    }

    /// What this batch shows, by the evidence that load cannot fake, first: the server's CPU
    /// time, then the clock's speed-up where it is evidence ([`CpuBatch::speed_up_is_evidence`]).
    /// A batch without a speed-up shows one thread only if
    /// the machine had cores to spare ([`CpuBatch::had_spare_cores`]) and, where its CPU time
    /// is counted, the server kept its one core busy; otherwise it cannot tell.
    pub fn parallelism(&self) -> Parallelism {
        if self.cpu_time_proves_parallel() {
            return Parallelism::Parallel(Proof::CpuTime);
        }
        if self.is_parallel() && self.speed_up_is_evidence() {
            return Parallelism::Parallel(Proof::SpeedUp);
        }
        let ran_flat_out = self
            .server_cores()
            .is_none_or(|cores| cores >= ONE_CORE_FLAT_OUT);
        if self.had_spare_cores()
            && ran_flat_out
            && self.speedup <= ONE_THREAD_SPEEDUP
            && self.is_plausible()
        {
            Parallelism::OneThread
        } else {
            Parallelism::CannotTell
        }
    }

    /// Whether the clock's speed-up may count as proof. It compares the batch with one request
    /// measured alone a moment earlier, and on a busy machine the share of a core a thread gets
    /// changes from one moment to the next: beside two busy loops, a server on one thread was
    /// measured at 1.41× and 1.45×, with answers close enough together, in 3 checks of 10. So
    /// where the server's CPU time is counted, that is the proof, and the clock is not; where
    /// it is not counted, the clock counts only if the calibration beside the batch found
    /// the machine quiet ([`SPARE_CORES_FOR_ONE_THREAD`]).
    pub fn speed_up_is_evidence(&self) -> bool {
        match (self.server_cpu, self.spare) {
            (Some(_), _) => false,
            (None, Some(spare)) => spare >= SPARE_CORES_FOR_ONE_THREAD,
            (None, None) => true,
        }
    }

    /// Whether the server's CPU time during the batch is more than one thread can use.
    pub fn cpu_time_proves_parallel(&self) -> bool {
        self.server_cpu.is_some_and(|cpu| {
            !self.together.is_zero()
                && cpu >= self.together.mul_f64(PARALLEL_CPU_PER_SECOND) + CPU_TIME_GRAIN
        })
    }

    /// Whether the batch ran in parallel on several cores: both [`PARALLEL_SPEEDUP`] and
    /// [`PARALLEL_SPREAD`] hold, and the speed-up is one this machine's cores can give
    /// ([`PLAUSIBLE_PER_CORE`]). Otherwise its requests took turns on one core, or a stall
    /// spoiled the measurement: either way it does not show parallelism.
    pub fn is_parallel(&self) -> bool {
        self.speedup >= PARALLEL_SPEEDUP
            && self.spread <= self.widest_parallel_spread()
            && self.is_plausible()
    }

    /// Whether the speed-up is one this machine's cores can give.
    pub fn is_plausible(&self) -> bool {
        self.speedup <= self.cores as f64 * PLAUSIBLE_PER_CORE
    }

    /// The widest spread a parallel batch of this size may have.
    pub fn widest_parallel_spread(&self) -> f64 {
        PARALLEL_SPREAD * self.size as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    fn batch_of(size: usize, speedup: f64, spread: f64) -> CpuBatch {
        CpuBatch {
            size,
            speedup,
            spread,
            cores: 2,
            together: ms(1000),
            server_cpu: None,
            spare: None,
            idle: None,
        }
    }

    #[test]
    fn a_parallel_batch_needs_both_measures() {
        let batch = |speedup, spread| batch_of(4, speedup, spread);
        assert!(batch(1.3, 3.0).is_parallel());
        assert!(!batch(1.29, 2.0).is_parallel());
        assert!(!batch(1.9, 3.01).is_parallel());
        // A demo's batch of 10 on two cores spreads to about 5; on one thread, to about 10.
        let ten = |spread| batch_of(10, 1.9, spread);
        assert!(ten(5.0).is_parallel());
        assert!(!ten(7.6).is_parallel());
        // More work per second than two cores can do: a stall, not parallelism.
        assert!(batch(2.5, 2.0).is_parallel());
        assert!(!batch(2.51, 2.0).is_parallel());
        let measured =
            CpuBatch::measure(ms(100), &[ms(100), ms(110), ms(190), ms(200)], ms(200), 2)
                .expect("a batch");
        assert_eq!(measured.size, 4);
        assert!((measured.speedup - 2.0).abs() < 1e-9);
        assert!((measured.spread - 2.0).abs() < 1e-9);
        assert_eq!(CpuBatch::measure(ms(100), &[], ms(200), 2), None);
    }

    /// Parallelism is shown by a speed-up or by CPU time whatever the load; its absence only
    /// where the calibration found cores to spare; otherwise the batch cannot tell.
    #[test]
    fn no_speed_up_is_one_thread_only_with_cores_to_spare() {
        let one_thread = batch_of(4, 1.02, 3.9);
        assert_eq!(
            one_thread.parallelism(),
            Parallelism::CannotTell,
            "not calibrated"
        );
        assert_eq!(
            one_thread.with_spare(1.95).parallelism(),
            Parallelism::OneThread
        );
        assert_eq!(
            one_thread
                .with_spare(SPARE_CORES_FOR_ONE_THREAD)
                .parallelism(),
            Parallelism::OneThread
        );
        assert_eq!(
            one_thread.with_spare(1.69).parallelism(),
            Parallelism::CannotTell
        );
        // Between the edges: neither, even on an idle machine.
        assert_eq!(
            batch_of(4, 1.2, 3.0).with_spare(1.95).parallelism(),
            Parallelism::CannotTell
        );
        // A speed-up counts where the machine was quiet beside it; beside two busy loops
        // (a calibration of about 1.5), or where the server's CPU time is the evidence, not.
        let sped_up = batch_of(4, 1.5, 2.0);
        assert_eq!(
            sped_up.with_spare(1.9).parallelism(),
            Parallelism::Parallel(Proof::SpeedUp)
        );
        assert_eq!(
            sped_up.with_spare(1.5).parallelism(),
            Parallelism::CannotTell
        );
        assert_eq!(
            sped_up
                .with_spare(1.9)
                .with_server_cpu(ms(1000))
                .parallelism(),
            Parallelism::CannotTell
        );
        // CPU time: more than one core's worth over the batch's wall time, beyond two ticks.
        let edge = ms(1000).mul_f64(PARALLEL_CPU_PER_SECOND) + CPU_TIME_GRAIN;
        assert_eq!(
            one_thread.with_server_cpu(edge).parallelism(),
            Parallelism::Parallel(Proof::CpuTime)
        );
        assert_eq!(
            one_thread
                .with_server_cpu(edge - ms(1))
                .with_spare(1.95)
                .parallelism(),
            Parallelism::OneThread
        );
        // Idle time during the batch decides too, where the OS counts it (about 0.9 of a core
        // beside a one-thread server on two; none beside a build), and the server must have
        // kept its core busy.
        let calibrated = one_thread.with_spare(1.95);
        assert_eq!(
            calibrated.with_idle(ms(900)).parallelism(),
            Parallelism::OneThread
        );
        assert_eq!(
            calibrated.with_idle(ms(599)).parallelism(),
            Parallelism::CannotTell
        );
        assert_eq!(
            calibrated
                .with_idle(ms(900))
                .with_server_cpu(ms(700))
                .parallelism(),
            Parallelism::CannotTell,
            "it got 0.7 of a core: it waited for the machine"
        );
        assert_eq!(
            one_thread.with_idle(ms(900)).parallelism(),
            Parallelism::OneThread
        );
        let cores = one_thread
            .with_server_cpu(edge)
            .server_cores()
            .expect("measured");
        assert!((cores - 1.22).abs() < 1e-9, "{cores}");
    }
}
