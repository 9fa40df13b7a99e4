package consumer;

import io.github.cdkprotoncancelpipelinedeployment.CancelPipelineDeployment;
import io.github.cdkprotoncancelpipelinedeployment.CancelPipelineDeploymentProps;
import io.github.cdkprotoncancelpipelinedeployment.CancelPipelineDeploymentProvider;
import io.github.cdkprotoncancelpipelinedeployment.CancelPipelineDeploymentProviderProps;
import java.util.List;
import java.util.function.Consumer;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;

/**
 * The consumer stack in Java, from the jar jsii-pacmak built: the same stack as
 * test/consumers/typescript/app.ts. Arguments: OUTDIR.
 */
public final class ConsumerApp {
  static Stack consumerStack(App app) {
    Stack stack = new Stack(app, "ConsumerStack", StackProps.builder()
        .env(Environment.builder().account("123456789012").region("eu-west-1").build())
        .build());
    new CancelPipelineDeployment(stack, "Orders", CancelPipelineDeploymentProps.builder()
        .serviceName("orders")
        .build());
    CancelPipelineDeploymentProvider provider = new CancelPipelineDeploymentProvider(stack, "PaymentsProvider",
        CancelPipelineDeploymentProviderProps.builder().pollInterval(Duration.seconds(30)).build());
    new CancelPipelineDeployment(stack, "Payments", CancelPipelineDeploymentProps.builder()
        .serviceName("payments")
        .timeout(Duration.minutes(20))
        .trigger("v2")
        .failUnlessCancelled(true)
        .provider(provider)
        .build());
    return stack;
  }

  /** Exits non-zero unless build throws an exception of that type whose message holds every text. */
  static void expectFailure(String description, Class<? extends Throwable> type, List<String> texts, Consumer<Stack> build) {
    try {
      build.accept(new Stack(new App(), "Wrong"));
    } catch (Throwable error) {
      String message = String.valueOf(error.getMessage());
      if (!type.isInstance(error) || !texts.stream().allMatch(message::contains)) {
        System.err.printf("%s: failed with %s '%s', expected %s with %s%n", description, error.getClass().getName(), message, type.getName(), texts);
        System.exit(1);
      }
      return;
    }
    System.err.printf("%s: did not fail%n", description);
    System.exit(1);
  }

  public static void main(String[] args) {
    String outdir = args[0];

    // The construct's own sentence, thrown through jsii as a JsiiException.
    String tooLong = "a".repeat(101);
    expectFailure("serviceName of 101 characters", RuntimeException.class,
        List.of("serviceName must be 1 to 100 characters", "got '" + tooLong + "' (101 characters)."),
        stack -> new CancelPipelineDeployment(stack, "TooLong", CancelPipelineDeploymentProps.builder().serviceName(tooLong).build()));
    // The generated props builder's own check of a required property.
    expectFailure("serviceName left out", NullPointerException.class, List.of("serviceName is required"),
        stack -> new CancelPipelineDeployment(stack, "NoName", CancelPipelineDeploymentProps.builder().build()));

    App app = new App(AppProps.builder().outdir(outdir).build());
    consumerStack(app);
    app.synth();
  }
}
