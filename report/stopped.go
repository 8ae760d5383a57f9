package report

import (
	"fmt"
	"strings"
)

// mdStopped says which phase stopped the run, why, and how to go on.
func mdStopped(b *strings.Builder, v *view) {
	st := v.Stopped
	if st == nil {
		return
	}
	b.WriteString("## Run stopped\n\n")
	fmt.Fprintf(b, "- **Phase:** %s\n- **Status:** %s\n- **Why:** %s\n- **To go on:** %s\n\n",
		mdInline(orDash(st.Phase)), mdInline(orDash(st.Status)), mdInline(orDash(st.Reason)), mdInline(orDash(st.Resume)))
	b.WriteString("_The sections below show what the run did before it stopped; the phases it did not reach are missing._\n\n")
}

// mdWarnings lists what went wrong without ending the run.
func mdWarnings(b *strings.Builder, v *view) {
	if len(v.Warnings) == 0 {
		return
	}
	b.WriteString("## Warnings\n\nWhat went wrong without ending the run:\n\n")
	for _, w := range v.Warnings {
		fmt.Fprintf(b, "- %s: %s\n", mdInline(w.Phase), mdInline(w.Message))
	}
	b.WriteString("\n")
}
