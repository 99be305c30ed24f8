// Package wiretype is the one judge of what can cross meshsplit's wire:
// the analyzer (which reports on a seam) and the generator (which writes
// its codec) both ask it, so that analyze never calls remotable what
// extract then refuses, nor the other way round.
//
// Check walks the types a method signature carries, the way the generated
// codec does, and returns every Problem it meets: a Kind (which says whether
// it blocks the method or is a caveat), the parameter or result it sits
// under, and the path from there. analyze turns the problems into findings
// with positions and advice; rewrite/gen refuses a method with a blocking
// problem and generates the others. The helpers beside it (Empty,
// KeyPointer, JSONKey, IsTime, DefinedAsTime...) are the codec facts the walk
// rests on, shared so that neither side keeps a copy.
//
// It imports go/types and the standard library only.
package wiretype
