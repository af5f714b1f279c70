//go:build !features17

package engine

// issue17Features says whether the feature vector has issue 17's entity,
// multi-day, baseline, suppression and anomaly features, which version 2 of
// the default pack (GeneralisingRules) reads. Built without them, the pack
// stays at version 1. When the features branches are merged, delete this
// file and issue17_on.go and the issue17Features test in RulePacks.
const issue17Features = false
