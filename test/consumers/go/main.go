// The consumer stack in Go, from the module in dist/go: the same stack as
// test/consumers/typescript/app.ts. Usage: go run . OUTDIR
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	cancel "github.com/cdk-proton-cancel-pipeline-deployment/cdk-proton-cancel-pipeline-deployment-go/cdkprotoncancelpipelinedeployment"
)

func consumerStack(app awscdk.App) awscdk.Stack {
	stack := awscdk.NewStack(app, jsii.String("ConsumerStack"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
	})
	cancel.NewCancelPipelineDeployment(stack, jsii.String("Orders"), &cancel.CancelPipelineDeploymentProps{
		ServiceName: jsii.String("orders"),
	})
	provider := cancel.NewCancelPipelineDeploymentProvider(stack, jsii.String("PaymentsProvider"), &cancel.CancelPipelineDeploymentProviderProps{
		PollInterval: awscdk.Duration_Seconds(jsii.Number(30)),
	})
	cancel.NewCancelPipelineDeployment(stack, jsii.String("Payments"), &cancel.CancelPipelineDeploymentProps{
		ServiceName:         jsii.String("payments"),
		Timeout:             awscdk.Duration_Minutes(jsii.Number(20)),
		Trigger:             jsii.String("v2"),
		FailUnlessCancelled: jsii.Bool(true),
		Provider:            provider,
	})
	return stack
}

// failure runs build on a stack of its own and returns what it panicked with, or "" if it did not.
func failure(build func(stack awscdk.Stack)) (message string) {
	defer func() {
		if r := recover(); r != nil {
			message = fmt.Sprint(r)
		}
	}()
	build(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Wrong"), nil))
	return ""
}

func main() {
	outdir := os.Args[1]

	// The construct's own sentence, raised through jsii as a panic.
	tooLong := strings.Repeat("a", 101)
	message := failure(func(stack awscdk.Stack) {
		cancel.NewCancelPipelineDeployment(stack, jsii.String("TooLong"), &cancel.CancelPipelineDeploymentProps{ServiceName: jsii.String(tooLong)})
	})
	for _, text := range []string{"serviceName must be 1 to 100 characters", fmt.Sprintf("got '%s' (101 characters).", tooLong)} {
		if !strings.Contains(message, text) {
			fmt.Fprintf(os.Stderr, "serviceName of 101 characters: failed with %q, expected %q\n", message, text)
			os.Exit(1)
		}
	}

	// Required props missing: jsii's own check names the field.
	message = failure(func(stack awscdk.Stack) {
		cancel.NewCancelPipelineDeployment(stack, jsii.String("NoName"), &cancel.CancelPipelineDeploymentProps{})
	})
	if !strings.Contains(message, "ServiceName") {
		fmt.Fprintf(os.Stderr, "a missing serviceName: failed with %q, expected it to name ServiceName\n", message)
		os.Exit(1)
	}

	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	consumerStack(app)
	app.Synth(nil)
}
