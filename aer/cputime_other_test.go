//go:build !unix

package aer

import "time"

func processCPU() time.Duration { return 0 }
