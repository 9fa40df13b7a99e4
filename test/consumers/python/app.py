"""The consumer stack in Python, from the wheel in dist/python: the same stack as
test/consumers/typescript/app.ts. Usage: python app.py OUTDIR"""
import sys

from aws_cdk import App, Duration, Environment, Stack
from cdk_proton_cancel_pipeline_deployment import (
    CancelPipelineDeployment,
    CancelPipelineDeploymentProvider,
)


def consumer_stack(app: App) -> Stack:
    stack = Stack(app, "ConsumerStack", env=Environment(account="123456789012", region="eu-west-1"))
    CancelPipelineDeployment(stack, "Orders", service_name="orders")
    provider = CancelPipelineDeploymentProvider(stack, "PaymentsProvider", poll_interval=Duration.seconds(30))
    CancelPipelineDeployment(
        stack,
        "Payments",
        service_name="payments",
        timeout=Duration.minutes(20),
        trigger="v2",
        fail_unless_cancelled=True,
        provider=provider,
    )
    return stack


def expect_failure(description: str, error_type: type, expected: list, build) -> None:
    """Exits non-zero unless build() raises error_type with every one of the expected texts."""
    try:
        build(Stack(App(), "Wrong"))
    except Exception as error:
        if not isinstance(error, error_type) or any(text not in str(error) for text in expected):
            sys.exit(f"{description}: failed with {type(error).__name__} '{error}', expected {error_type.__name__} with {expected}")
        return
    sys.exit(f"{description}: did not fail")


def main() -> None:
    outdir = sys.argv[1]
    # The construct's own sentence, raised through jsii as a RuntimeError.
    expect_failure(
        "serviceName of 101 characters",
        RuntimeError,
        ["serviceName must be 1 to 100 characters", f"got '{'a' * 101}' (101 characters)."],
        lambda stack: CancelPipelineDeployment(stack, "TooLong", service_name="a" * 101),
    )
    # jsii's own type check, naming the parameter.
    expect_failure(
        "serviceName of the wrong type",
        TypeError,
        ["service_name"],
        lambda stack: CancelPipelineDeployment(stack, "NotAString", service_name=42),
    )
    app = App(outdir=outdir)
    consumer_stack(app)
    app.synth()


if __name__ == "__main__":
    main()
