// Group commit: concurrent writers share one transaction and one flush to stable storage, and
// each is answered only after the commit that holds its own write. The first caller to find no
// batch running becomes the leader: it takes every write queued so far, has the store run them
// in one transaction (each in a savepoint, so one write's failure undoes only that write),
// commits once, hands each caller its own outcome, and repeats while writes arrived meanwhile.
// Fail closed as before: if the commit fails, every write of the batch fails.
// Used by the SQLite store (broker/store/sqlite_store.cpp); the PostgreSQL store measured slower with
// it (pg_store.cpp). Thread-safe; `Ctx` is what the store hands each write.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "core/result.h"

namespace sigil::broker {

template <typename Ctx>
class GroupCommit {
 public:
  struct Write {
    std::function<Result<void>(Ctx&)> run;
    std::optional<Result<void>> outcome;  // set by the batch runner (read only once `done`)
    bool done = false;  // set under the queue lock once the batch's commit has returned
    // Each writer sleeps on its own condition: after a commit exactly the batch's writers and
    // the next leader wake, not every waiting thread (measured: waking all of them made context
    // switches the largest single cost of a flow under load).
    std::condition_variable wake;
  };
  // Runs `batch` in one transaction and sets every outcome (also when the commit fails).
  using BatchRunner = std::function<void(const std::vector<Write*>& batch)>;

  explicit GroupCommit(BatchRunner runner) : runner_(std::move(runner)) {}

  // Queues `run`, waits until the commit holding it (or its failure), returns its outcome.
  Result<void> Submit(std::function<Result<void>(Ctx&)> run) {
    Write write{std::move(run), std::nullopt, false, {}};
    std::unique_lock lock(mu_);
    queue_.push_back(&write);
    // Waits for `done`, not for an outcome: the runner records each write's outcome as it runs,
    // before the commit, and a caller answered then would answer for a record not yet durable.
    while (!write.done) {
      if (leading_) {
        write.wake.wait(lock);
        continue;
      }
      leading_ = true;
      std::vector<Write*> batch(queue_.begin(), queue_.end());
      queue_.clear();
      lock.unlock();
      runner_(batch);
      lock.lock();
      leading_ = false;
      for (Write* w : batch) {
        w->done = true;
        if (w != &write) w->wake.notify_one();
      }
      // A writer that queued meanwhile leads the next batch.
      if (!queue_.empty()) queue_.front()->wake.notify_one();
    }
    return std::move(*write.outcome);
  }

 private:
  BatchRunner runner_;
  std::mutex mu_;
  std::deque<Write*> queue_;
  bool leading_ = false;
};

}  // namespace sigil::broker
