package wire

import "fmt"

// Mail is one message the guest's engine asks the host to deliver
// (engine.Message, field for field).
type Mail struct {
	From, To, Subject string
	Text, HTML        string
	Kind              string
}

// AppendMail appends m as an 'M' frame.
func AppendMail(b []byte, m *Mail) []byte {
	b = append(b, kindMail)
	b = appendString(appendString(appendString(b, m.From), m.To), m.Subject)
	b = appendString(appendString(b, m.Text), m.HTML)
	return appendString(b, m.Kind)
}

// ParseMail decodes an 'M' frame.
func ParseMail(frame []byte) (*Mail, error) {
	r := newReader(frame, kindMail)
	m := &Mail{From: r.text("from"), To: r.text("to"), Subject: r.text("subject")}
	m.Text = string(r.bytes(maxMailBody, "text"))
	m.HTML = string(r.bytes(maxMailBody, "html"))
	m.Kind = r.text("kind")
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("wire: mail: %w", err)
	}
	return m, nil
}
