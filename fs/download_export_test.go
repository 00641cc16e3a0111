package fs

import "strconv"

// DescribeSpecs exposes the pre-walk of a receive session's question, with a chosen
// budget of entries, so the cap can be tested without a tree of 100 000 files.
func DescribeSpecs(home string, names []string, budget int) []SpecInfo {
	specs := make([]spec, len(names))
	for i, n := range names {
		specs[i] = spec{name: n}
	}
	return describeSpecs(home, specs, budget)
}

// MaxDescribeEntries is the pre-walk's budget.
const MaxDescribeEntries = maxDescribeEntries

// Listing runs the listing walk of a receive session over the specs (fids 0, 1, …) with
// a cap of limit entries, and returns the payloads it would send.
func Listing(home string, names []string, limit int) []string {
	specs := make([]spec, len(names))
	for i, n := range names {
		specs[i] = spec{fid: strconv.Itoa(i), name: n}
	}
	d := &download{id: "t", errs: true}
	l := newLister(home, specs)
	l.limit = limit
	for !l.step(d) {
	}
	var out []string
	for _, seq := range d.out {
		out = append(out, string(seq))
	}
	return out
}
