package dev.dovetail.api.aws.v1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.Format;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

/** An EBS volume. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.snapshotID) || has(self.volumeSize)", message = "snapshotID or volumeSize must be defined")
@ValidationRule(value = "!has(self.volumeInitializationRate) || (has(self.snapshotID) && self.snapshotID != '')",
    message = "snapshotID must be set when volumeInitializationRate is set")
public record BlockDevice(
    @JsonPropertyDescription("Delete the volume when the instance terminates.")
    Boolean deleteOnTermination,
    @JsonPropertyDescription("Encrypt the volume.")
    Boolean encrypted,
    @JsonPropertyDescription("Provisioned IOPS (io1, io2, gp3).")
    @Format("int64")
    Long iops,
    @JsonPropertyDescription("KMS key for encryption.")
    @JsonProperty("kmsKeyID")
    String kmsKeyID,
    @JsonPropertyDescription("Snapshot the volume is created from.")
    @JsonProperty("snapshotID")
    String snapshotID,
    @JsonPropertyDescription("Throughput in MiB/s (gp3).")
    @Format("int64")
    Long throughput,
    @JsonPropertyDescription("Rate in MiB/s at which a volume created from a snapshot is initialized (100-300).")
    @Min(100) @Max(300) @Format("int32")
    Integer volumeInitializationRate,
    @JsonPropertyDescription("Size of the volume, such as 20Gi (up to 64T).")
    @Pattern("^((?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|[5][0-8][0-9]{3}|59000)Gi|(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|[6][0-3][0-9]{3}|64000)G|([1-9]||[1-5][0-7]|58)Ti|([1-9]||[1-5][0-9]|6[0-3]|64)T)$")
    String volumeSize,
    @JsonPropertyDescription("EBS volume type: standard, io1, io2, gp2, sc1, st1 or gp3.")
    VolumeType volumeType) {

  /** EBS volume types. */
  public enum VolumeType {
    @JsonProperty("standard") STANDARD,
    @JsonProperty("io1") IO1,
    @JsonProperty("io2") IO2,
    @JsonProperty("gp2") GP2,
    @JsonProperty("sc1") SC1,
    @JsonProperty("st1") ST1,
    @JsonProperty("gp3") GP3
  }
}
