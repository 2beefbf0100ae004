package postgres

// TailLockClass is exported to tests, which hold the lock to stand for a
// tail lookup in flight.
const TailLockClass = tailLockClass
