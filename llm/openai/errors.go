package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mlrc/mlrc/llm"
	"github.com/openai/openai-go/v3"
)

// maxMessage bounds how much of a raw error body goes into a message.
const maxMessage = 500

func (c *Client) newError(req *llm.Request, err error) *llm.APIError {
	return &llm.APIError{Provider: c.provider, Model: req.Model, Err: err}
}

// requestError turns a failed request into an APIError: an HTTP error status
// (raw is the response the SDK saw, if any), a cancellation, or a transport
// failure.
func (c *Client) requestError(ctx context.Context, req *llm.Request, raw *http.Response, err error) error {
	var sdkErr *openai.Error
	if errors.As(err, &sdkErr) && sdkErr.Response != nil {
		raw = sdkErr.Response
	}
	if raw == nil || raw.StatusCode < 400 {
		return c.transportError(ctx, req, "request failed", err)
	}
	// The SDK has read the body and put it back for us; it cannot parse
	// every server's error body (Ollama sends {"error": "…"}), in which case
	// err is a JSON error rather than *openai.Error.
	body, _ := io.ReadAll(io.LimitReader(raw.Body, 1<<16))
	e := c.newError(req, err)
	e.Status = raw.StatusCode
	e.RetryAfter = llm.ParseRetryAfter(raw.Header, time.Now())
	e.Message = bodyMessage(body)
	if sdkErr != nil && sdkErr.Message != "" {
		e.Message = sdkErr.Message
	}
	e.Message = c.redact(e.Message)
	return e
}

// transportError wraps a failure to reach the server or to read its answer.
// Cancellation stays recognisable through errors.Is; everything that may
// succeed on another try (timeouts, resets, unexpected EOF) is Temporary.
func (c *Client) transportError(ctx context.Context, req *llm.Request, what string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	e := c.newError(req, err)
	switch {
	case errors.Is(err, context.Canceled):
		e.Message = what + ": canceled"
	case errors.Is(err, context.DeadlineExceeded):
		e.Message = what + ": timed out"
		e.Temporary = true
	default:
		e.Message = c.redact(what + ": " + err.Error())
		e.Temporary = llm.IsRetryable(err)
	}
	return e
}

// malformed reports a 200 response whose body is not what the wire format
// promises. Retrying would most likely get the same answer.
func (c *Client) malformed(req *llm.Request, err error) error {
	e := c.newError(req, err)
	e.Status = http.StatusOK
	e.Message = c.redact("malformed response: " + err.Error())
	return e
}

// cut reports a stream that ended before the model finished.
func (c *Client) cut(req *llm.Request, err error) error {
	e := c.newError(req, err)
	e.Temporary = true
	e.Message = "stream was cut before the model finished"
	if err != nil {
		e.Message += ": " + c.redact(err.Error())
	}
	return e
}

// streamError reports an error the server sent inside a stream or in a 200
// body, as OpenRouter does when an upstream provider fails mid-answer.
func (c *Client) streamError(req *llm.Request, body []byte) error {
	e := c.newError(req, errors.New("error event in response"))
	e.Message = c.redact(bodyMessage(body))
	e.Status = errorCode(body)
	// Without an HTTP-like code the error is most likely the upstream
	// breaking off, which another try may get past.
	e.Temporary = e.Status == 0
	return e
}

func (c *Client) redact(s string) string {
	if len(c.apiKey) < 4 {
		return s
	}
	return strings.ReplaceAll(s, c.apiKey, "[redacted]")
}

// errorEnvelope covers the error bodies seen in the wild: OpenAI's
// {"error": {"message": …}}, Ollama's {"error": "…"} and vLLM's
// {"object": "error", "message": …}.
type errorEnvelope struct {
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
}

type errorObject struct {
	Message string          `json:"message"`
	Code    json.RawMessage `json:"code"`
}

// hasError reports whether body is a JSON object with a non-null "error".
func hasError(body []byte) bool {
	if !bytes.Contains(body, []byte(`"error"`)) {
		return false
	}
	var env errorEnvelope
	return json.Unmarshal(body, &env) == nil && len(env.Error) > 0 && string(env.Error) != "null"
}

// bodyMessage returns the provider's own message from an error body, or the
// body itself, trimmed.
func bodyMessage(body []byte) string {
	var env errorEnvelope
	if json.Unmarshal(body, &env) == nil {
		var obj errorObject
		var s string
		switch {
		case json.Unmarshal(env.Error, &obj) == nil && obj.Message != "":
			return obj.Message
		case json.Unmarshal(env.Error, &s) == nil && s != "":
			return s
		case env.Message != "":
			return env.Message
		}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "…"
	}
	if msg == "" {
		msg = "(empty body)"
	}
	return msg
}

// errorCode returns an HTTP status carried in an error object's code, or 0.
func errorCode(body []byte) int {
	var env errorEnvelope
	var obj errorObject
	if json.Unmarshal(body, &env) != nil || json.Unmarshal(env.Error, &obj) != nil {
		return 0
	}
	code, err := strconv.Atoi(strings.Trim(string(obj.Code), `"`))
	if err != nil || code < 400 || code > 599 {
		return 0
	}
	return code
}
