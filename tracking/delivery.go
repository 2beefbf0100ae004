package tracking

// Delivery is how the outbox's SMS leave the machine.
type Delivery struct {
	// Gateway sends SMS. Nil until a gateway is configured: SMS stay queued,
	// each marked once with last_error "no_gateway", and nothing is called
	// sent.
	Gateway Notifier
	// Render fills a message's text from its template and parameters; an
	// error marks the message failed (nil: no text is rendered).
	Render func(m *Message) error
}

// DeliveryReport counts what one delivery round did.
type DeliveryReport struct {
	Sent    int // accepted by the gateway, with a message_sent event each
	Failed  int // marked failed with their error (never retried)
	Retry   int // refused for now by the gateway, tried again later
	Waiting int // kept queued: no gateway is configured
}

// Handled is how many messages the round looked at.
func (r DeliveryReport) Handled() int { return r.Sent + r.Failed + r.Retry + r.Waiting }
