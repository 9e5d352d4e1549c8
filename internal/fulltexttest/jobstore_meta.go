package fulltexttest

import "testing"

// metaCases pin GetMeta, SetMeta and ListMeta.
func metaCases() []jobStoreCase {
	return []jobStoreCase{
		{"MetaListByPrefix", func(t *testing.T, h *harness) {
			ctx := t.Context()
			set := map[string]string{
				"host-pause:a.example":   "2026-11-28T13:00:00Z",
				"host-pause:b.example":   "",
				"host-pausex":            "not under the prefix with its colon",
				"host-state:a.example":   `{"breaker":"open"}`,
				"openalex-cursor:q":      "abc",
				"host-pause:%.example":   "literal percent",
				"host-pause:_x.example":  "literal underscore",
				"HOST-PAUSE:c.example":   "other case",
				"host-pause:é.example":   "non-ASCII",
				"host-pause":             "the prefix without its colon",
				"host-pause;after-colon": "sorts after the prefix",
			}
			for k, v := range set {
				if err := h.s.SetMeta(ctx, k, v); err != nil {
					t.Fatalf("SetMeta(%q): %v", k, err)
				}
			}
			got, err := h.s.ListMeta(ctx, "host-pause:")
			if err != nil {
				t.Fatalf("ListMeta: %v", err)
			}
			wantEqual(t, "ListMeta(host-pause:)", got, map[string]string{
				"host-pause:a.example":  "2026-11-28T13:00:00Z",
				"host-pause:b.example":  "",
				"host-pause:%.example":  "literal percent",
				"host-pause:_x.example": "literal underscore",
				"host-pause:é.example":  "non-ASCII",
			})
			got, err = h.s.ListMeta(ctx, "host-pause:%")
			if err != nil {
				t.Fatalf("ListMeta: %v", err)
			}
			wantEqual(t, "ListMeta(host-pause:%) matches '%' literally", got, map[string]string{
				"host-pause:%.example": "literal percent",
			})
			got, err = h.s.ListMeta(ctx, "no-such-prefix:")
			if err != nil {
				t.Fatalf("ListMeta: %v", err)
			}
			if got == nil || len(got) != 0 {
				t.Errorf("ListMeta(no match) = %#v, want an empty map", got)
			}
			all, err := h.s.ListMeta(ctx, "")
			if err != nil {
				t.Fatalf("ListMeta(\"\"): %v", err)
			}
			if len(all) < len(set) {
				t.Errorf("ListMeta(\"\") = %d keys, want at least %d", len(all), len(set))
			}
		}},
		{"MetaOverwriteSeenByList", func(t *testing.T, h *harness) {
			ctx := t.Context()
			for _, v := range []string{"first", "second"} {
				if err := h.s.SetMeta(ctx, "host-state:x.example", v); err != nil {
					t.Fatalf("SetMeta: %v", err)
				}
			}
			v, ok, err := h.s.GetMeta(ctx, "host-state:x.example")
			if err != nil || !ok || v != "second" {
				t.Errorf("GetMeta = %q, %v, %v; want second, true, nil", v, ok, err)
			}
			got, err := h.s.ListMeta(ctx, "host-state:")
			if err != nil {
				t.Fatalf("ListMeta: %v", err)
			}
			wantEqual(t, "ListMeta after overwrite", got, map[string]string{"host-state:x.example": "second"})
		}},
	}
}
