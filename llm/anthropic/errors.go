package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/mlrc/mlrc/llm"
)

// maxBodyInMessage bounds how much of a response body goes into an error.
const maxBodyInMessage = 500

// statusOverloaded is the API's own status for an overloaded service.
const statusOverloaded = 529

// newError starts an APIError for req.
func (c *Client) newError(req *llm.Request) *llm.APIError {
	return &llm.APIError{Provider: c.provider, Model: req.Model}
}

// invalidRequest is a request that cannot be converted; retrying won't help.
func (c *Client) invalidRequest(req *llm.Request, err error) error {
	e := c.newError(req)
	e.Message, e.Err = "invalid request: "+err.Error(), err
	return e
}

// malformed is a 200 response that does not parse; it is not retried.
func (c *Client) malformed(req *llm.Request, err error) error {
	e := c.newError(req)
	e.Status, e.Message, e.Err = http.StatusOK, "malformed response: "+err.Error(), err
	return e
}

// streamCut is a stream that ended before message_stop.
func (c *Client) streamCut(req *llm.Request) error {
	e := c.newError(req)
	e.Message, e.Temporary = "stream was cut before message_stop", true
	e.Err = io.ErrUnexpectedEOF
	return e
}

// wrapError turns a failure of the SDK call into an APIError: an HTTP error
// status, an error event inside a stream, a cancelled context, a transport
// failure, or a response that does not parse.
func (c *Client) wrapError(ctx context.Context, req *llm.Request, err error) error {
	e := c.newError(req)
	e.Err = err
	var apiErr *sdk.Error
	switch {
	case ctx.Err() != nil:
		if !errors.Is(err, ctx.Err()) {
			e.Err = ctx.Err()
		}
		e.Message = ctx.Err().Error()
		// A deadline may be one attempt's; the caller's own context decides
		// whether another attempt is made.
		e.Temporary = errors.Is(ctx.Err(), context.DeadlineExceeded)
	case errors.As(err, &apiErr):
		fillFromSDKError(e, apiErr)
	case isMalformed(err):
		e.Status, e.Message = http.StatusOK, "malformed response: "+err.Error()
	case isTransport(err):
		e.Message, e.Temporary = err.Error(), true
	default:
		e.Message = err.Error()
	}
	return e
}

// fillFromSDKError copies status, message and Retry-After from the SDK's
// error. An error event inside a stream arrives with the stream's status
// (200); its status is then the one its error type stands for.
func fillFromSDKError(e *llm.APIError, apiErr *sdk.Error) {
	e.Status = apiErr.StatusCode
	if e.Status < http.StatusBadRequest {
		e.Status = statusForType(apiErr.Type())
	}
	e.Message = apiErr.Message
	if e.Message == "" {
		e.Message = trimBody(apiErr.RawJSON())
	}
	if e.Message == "" {
		e.Message = string(apiErr.Type())
	}
	if apiErr.Response != nil {
		e.RetryAfter = llm.ParseRetryAfter(apiErr.Response.Header, time.Now())
	}
}

// statusForType is the HTTP status the API uses for an error type.
func statusForType(t sdk.ErrorType) int {
	switch t {
	case sdk.ErrorTypeInvalidRequestError:
		return http.StatusBadRequest
	case sdk.ErrorTypeAuthenticationError:
		return http.StatusUnauthorized
	case sdk.ErrorTypeBillingError:
		return http.StatusPaymentRequired
	case sdk.ErrorTypePermissionError:
		return http.StatusForbidden
	case sdk.ErrorTypeNotFoundError:
		return http.StatusNotFound
	case sdk.ErrorTypeConflictError:
		return http.StatusConflict
	case sdk.ErrorTypeRateLimitError:
		return http.StatusTooManyRequests
	case sdk.ErrorTypeTimeoutError:
		return http.StatusGatewayTimeout
	case sdk.ErrorTypeOverloadedError:
		return statusOverloaded
	}
	// api_error, or a type this SDK does not know: a failure on the server's
	// side part-way through the response.
	return http.StatusInternalServerError
}

// trimBody shortens a response body for an error message.
func trimBody(body string) string {
	body = strings.TrimSpace(body)
	if len(body) <= maxBodyInMessage {
		return body
	}
	cut := maxBodyInMessage
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return body[:cut] + "…"
}

// isMalformed reports whether err is JSON that did not decode.
func isMalformed(err error) bool {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	return errors.As(err, &syntaxErr) || errors.As(err, &typeErr)
}

// isTransport reports whether err is a failure of the connection: refused,
// reset, cut short, timed out.
func isTransport(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}
