package dev.dovetail.provisioner.nodeclaim;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.provisioner.controller.Reconciliation;
import dev.dovetail.provisioner.controller.Result;
import io.fabric8.kubernetes.api.model.Node;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One step of a NodeClaim's way to a Ready node (Karpenter's lifecycle sub-reconcilers). A step that has
 * nothing to do passes the claim on; one that acts writes only what changed and passes on the objects as
 * written, so the next step works from them; one that must wait (or gave the claim up) ends the reconcile
 * with its result.
 */
interface Step {
  /** The claim and its node (if one has appeared), as the steps leave them. */
  record State(NodeClaim claim, Optional<Node> node) {
    State withClaim(NodeClaim next) {
      return new State(next, node);
    }

    State withNode(Node next) {
      return new State(claim, Optional.of(next));
    }
  }

  /** A step's outcome: the state to go on with, or the result that ends the reconcile. */
  record Outcome(State state, Optional<Result> stop) {
    static CompletionStage<Outcome> next(State state) {
      return CompletableFuture.completedFuture(new Outcome(state, Optional.empty()));
    }

    static CompletionStage<Outcome> stop(State state, Result result) {
      return CompletableFuture.completedFuture(new Outcome(state, Optional.of(result)));
    }

    static Outcome stopped(State state, Result result) {
      return new Outcome(state, Optional.of(result));
    }
  }

  CompletionStage<Outcome> reconcile(State state, Reconciliation context);
}
