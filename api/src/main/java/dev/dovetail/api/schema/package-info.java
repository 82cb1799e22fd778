/**
 * Schema keywords that fabric8's CRD generator does not derive from Java types, declared next to the
 * fields they belong to. The CRD generator's post-processor ({@code SchemaExtras} in this module's
 * tests) reads them and writes the keywords into the generated CRD, so the Java model stays the one
 * source of the YAML in {@code manifests/crds}.
 */
package dev.dovetail.api.schema;
