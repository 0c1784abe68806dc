//go:build tools

// Package tools pins the pulumi-kubernetes resource provider for `go build`.
package tools

import _ "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes"
