package wire

// Limits on frames and fields. They bound what either side allocates for a
// frame it did not write.
const (
	// MaxFrame bounds every frame.
	MaxFrame = 16 << 20
	// MaxBody bounds request and response bodies. The engine answers 413
	// to bodies over 1 MiB, so the host forwards at most one byte more.
	MaxBody = 1<<20 + 1
	// MaxHeaders bounds the number of header lines in a request or response.
	MaxHeaders = 256
	// MaxText bounds short strings: methods, targets, header names and
	// values, ids, secrets, SQL text, key members, addresses, subjects,
	// redirect URLs and each field of a mail template.
	MaxText = 64 << 10
	// maxArgs bounds the arguments of one SQL statement.
	maxArgs = 1024
	// maxColumns bounds the columns of one SQL result.
	maxColumns = 256
	// maxKeys bounds the public keys in a Config.
	maxKeys = 64
	// MaxRedirectURLs bounds the redirect allow-list in a Config.
	MaxRedirectURLs = 64
	// MaxWebAuthnOrigins bounds the WebAuthn origins in a Config.
	MaxWebAuthnOrigins = 64
	// MaxTemplates bounds the mail templates in a Config: one per kind
	// the engine sends, with room to grow.
	MaxTemplates = 16
	// maxMailBody bounds a Mail frame's text and its HTML, each; the
	// engine's messages are a few KiB.
	maxMailBody = 1 << 20
	// MaxSealed bounds a sealed value in an 'O' or 'b' frame. What the
	// engine seals — a TOTP secret, recovery codes — is tens of bytes.
	MaxSealed = 4 << 10
	// MaxPlaintext bounds the plaintext in a 'B' or 'o' frame: MaxSealed
	// less room for the box's version, nonce and tag (29 bytes for
	// keys.SecretBox), so whatever may be sealed fits a sealed answer.
	MaxPlaintext = MaxSealed - 64
	// maxFetchHeader bounds the header names and values of an 'F' or 'f'
	// frame, taken together; as many bytes as a Go host reads of an
	// answer's header block. A fetch body is bounded by
	// oauth.MaxResponseBody, as every Fetcher bounds what it reads.
	maxFetchHeader = 64 << 10
	// maxOAuthProviders bounds the providers document in a Config;
	// oauth.ParseProviders refuses a larger one.
	maxOAuthProviders = 64 << 10
)
