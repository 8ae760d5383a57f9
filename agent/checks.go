package agent

import (
	"fmt"
	"strings"
)

// DefaultChecks are loop detection: the same call repeated, the same error
// repeated.
func DefaultChecks() []Check {
	return []Check{RepeatedCalls(3), RepeatedErrors(3)}
}

// RepeatedCalls warns when the last n steps made exactly the same tool calls,
// and stops the run when they go on for 2n steps.
func RepeatedCalls(n int) Check {
	return func(history []Step) ([]string, string) {
		k := sameTail(history, func(s Step) string {
			var b strings.Builder
			for _, o := range s.Outcomes {
				fmt.Fprintf(&b, "%s(%s);", o.Call.Name, o.Call.Arguments)
			}
			return b.String()
		})
		switch {
		case k >= 2*n:
			return nil, fmt.Sprintf("loop: the same tool calls %d times in a row", k)
		case k >= n:
			return []string{fmt.Sprintf("You have made exactly the same tool call(s) %d times in a row with the same arguments. Repeating it will not change the result: try a different approach.", k)}, ""
		}
		return nil, ""
	}
}

// RepeatedErrors warns when the last n steps failed with the same error
// (the same traceback, the same failed edit), and stops at 2n.
func RepeatedErrors(n int) Check {
	return func(history []Step) ([]string, string) {
		k := sameTail(history, func(s Step) string {
			var b strings.Builder
			for _, o := range s.Outcomes {
				if o.IsError {
					b.WriteString(o.Content)
				}
			}
			return b.String()
		})
		switch {
		case k >= 2*n:
			return nil, fmt.Sprintf("loop: the same error %d times in a row", k)
		case k >= n:
			return []string{fmt.Sprintf("The same error has now occurred %d times in a row. Read it carefully and change what causes it instead of retrying.", k)}, ""
		}
		return nil, ""
	}
}

// sameTail counts how many of the last steps share one non-empty key.
func sameTail(history []Step, key func(Step) string) int {
	if len(history) == 0 {
		return 0
	}
	last := key(history[len(history)-1])
	if last == "" {
		return 0
	}
	k := 0
	for i := len(history) - 1; i >= 0 && key(history[i]) == last; i-- {
		k++
	}
	return k
}
