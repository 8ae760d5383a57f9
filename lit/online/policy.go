package online

import "time"

// Policy says how patiently a service is asked. The zero value of each field
// means its default.
type Policy struct {
	// Timeout bounds each attempt, from sending the request to reading the
	// whole answer. Default 10 s.
	Timeout time.Duration
	// Deadline bounds a whole search: waits for a request slot, every
	// attempt and the waits between them. Default 30 s.
	Deadline time.Duration
	// Attempts is the most requests made for one search. Default 3.
	Attempts int
	// BaseDelay is the first backoff; each later one doubles, and the delay
	// slept is drawn uniformly from [d/2, d]. A Retry-After longer than that
	// is honoured instead. Default 1 s.
	BaseDelay time.Duration
	// MaxWait caps the total time slept between attempts: a retry that would
	// exceed it is not made, and the last error is returned at once.
	// Default 30 s.
	MaxWait time.Duration
}

// Defaults of Policy.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultDeadline  = 30 * time.Second
	DefaultAttempts  = 3
	DefaultBaseDelay = time.Second
	DefaultMaxWait   = 30 * time.Second
)

// withDefaults returns p with its zero fields set to their defaults.
func (p Policy) withDefaults() Policy {
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Deadline <= 0 {
		p.Deadline = DefaultDeadline
	}
	if p.Attempts <= 0 {
		p.Attempts = DefaultAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultMaxWait
	}
	return p
}
