package fs

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
