package analyze

import "sort"

// The parts of a seam's score (see docs/analyze.md). A seam that is not
// remotable scores 0 whatever its other qualities.
const (
	scoreRemotable    = 40 // no finding above a note
	scoreWarnings     = 25 // remotable with warnings
	scoreCtorIface    = 20 // a constructor returns the interface: the switch goes in one place
	scoreCtorConcrete = 12 // only constructors returning the concrete type
	scoreConversions  = 6  // no constructor, but conversion sites to substitute at
	scoreOneImpl      = 15 // exactly one implementation to serve
	scoreManyImpls    = 8  // several: each constructor switches on its own
	scorePerImporter  = 5  // fan-in: each importing package, up to scoreMaxFanIn
	scoreMaxFanIn     = 15
	scorePerLoopCall  = 3 // chattiness: each method call inside a loop, down to -scoreMaxChatty
	scoreMaxChatty    = 15
)

// score computes a seam's extraction score.
func score(s *Seam) int {
	var n int
	switch s.Verdict {
	case NotRemotable:
		return 0
	case RemotableWithWarnings:
		n = scoreWarnings
	default:
		n = scoreRemotable
	}
	iface, concrete := false, false
	for _, c := range s.Ctors {
		if c.ReturnsInterface {
			iface = true
		} else {
			concrete = true
		}
	}
	switch {
	case iface:
		n += scoreCtorIface
	case concrete:
		n += scoreCtorConcrete
	case len(s.Conversions) > 0:
		n += scoreConversions
	}
	switch {
	case len(s.Impls) == 1:
		n += scoreOneImpl
	case len(s.Impls) > 1:
		n += scoreManyImpls
	}
	n += min(scorePerImporter*len(s.Importers), scoreMaxFanIn)
	loops := 0
	for _, m := range s.Methods {
		loops += m.CallsInLoops
	}
	n -= min(scorePerLoopCall*loops, scoreMaxChatty)
	return max(n, 0)
}

// rank scores the seams and sorts them best first: by score, then by
// verdict, then by name; Rank numbers them from 1.
func rank(seams []*Seam) {
	for _, s := range seams {
		s.Score = score(s)
	}
	sort.SliceStable(seams, func(i, j int) bool {
		a, b := seams[i], seams[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Verdict != b.Verdict {
			return a.Verdict < b.Verdict
		}
		return a.Name < b.Name
	})
	for i, s := range seams {
		s.Rank = i + 1
	}
}
