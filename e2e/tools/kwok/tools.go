//go:build tools

// Package tools pins KWOK, which plays the kubelet of every planned server.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
