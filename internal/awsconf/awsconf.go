// Package awsconf gives every Whirlpool plugin that talks to AWS the same
// connection properties, in the style of the AWS Go plugins for Fluent Bit:
// region, endpoint, role_arn, external_id, role_session_name, sts_endpoint,
// and the default credential chain (environment, shared config, web
// identity, instance role) for everything else.
package awsconf

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/whirlpool-events/whirlpool/internal/props"
)

// Properties are appended to a plugin's own property set.
var Properties = props.Set{
	{Name: "region", Meaning: "AWS region; default: the region in the queue URL, else the AWS environment (AWS_REGION, shared config)."},
	{Name: "endpoint", Meaning: "Custom service endpoint URL, e.g. a local emulator; default: AWS_ENDPOINT_URL_<SERVICE> or the AWS endpoint."},
	{Name: "role_arn", Meaning: "IAM role to assume (STS AssumeRole) with the default credentials."},
	{Name: "external_id", Meaning: "External ID for role_arn.", Secret: true},
	{Name: "role_session_name", Default: "whirlpool", Meaning: "Session name for role_arn."},
	{Name: "sts_endpoint", Meaning: "Custom STS endpoint URL for role_arn."},
}

// Settings are the values read from the properties.
type Settings struct {
	Region      string
	Endpoint    string
	RoleARN     string
	ExternalID  string
	SessionName string
	STSEndpoint string
}

// Read reads the AWS properties; the reader's set must include Properties.
func Read(r *props.Reader) Settings {
	return Settings{
		Region:      r.String("region"),
		Endpoint:    r.URL("endpoint"),
		RoleARN:     r.String("role_arn"),
		ExternalID:  r.String("external_id"),
		SessionName: r.String("role_session_name"),
		STSEndpoint: r.URL("sts_endpoint"),
	}
}

var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// ValidRegion reports whether s has the shape of an AWS region code
// (eu-west-1, us-gov-west-1, cn-north-1). It does not check that the
// region exists, so a region newer than this build is still accepted.
func ValidRegion(s string) bool { return regionRe.MatchString(s) }

// legacyUSEast1 is the SQS host of the oldest queue URLs, which name no
// region: they are in us-east-1.
const legacyUSEast1 = "queue.amazonaws.com"

// RegionFromURL returns the region in an AWS service URL's host, or "".
// It is the one parser every plugin uses, so that a queue URL yields the
// same region in the sqs input and output and an S3 endpoint the same in
// the redshift output. It knows the shapes AWS documents:
//
//	sqs.REGION.amazonaws.com             (and .amazonaws.com.cn in China)
//	REGION.queue.amazonaws.com           (legacy), queue.amazonaws.com (legacy us-east-1)
//	vpce-ID.sqs.REGION.vpce.amazonaws.com (interface VPC endpoint)
//	sqs-fips.REGION.amazonaws.com        (FIPS)
//	sqs.REGION.api.aws                   (dualstack)
//	s3.REGION.amazonaws.com, BUCKET.s3.REGION.amazonaws.com, s3-REGION.amazonaws.com
//
// and finds the region label in any other host the same way (an emulator
// such as sqs.us-east-1.localhost.localstack.cloud); a host without one
// (localhost, an IP address) has none.
func RegionFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == legacyUSEast1 {
		return "us-east-1"
	}
	for _, label := range strings.Split(host, ".") {
		// s3-REGION is the dash form of old S3 website and path endpoints.
		label = strings.TrimPrefix(label, "s3-")
		if ValidRegion(label) {
			return label
		}
	}
	return ""
}

// Config loads the AWS configuration: the default chain, the region
// (explicit, else fallbackRegion, else the environment) and, with role_arn,
// credentials from STS AssumeRole.
func (s Settings) Config(ctx context.Context, fallbackRegion string) (aws.Config, error) {
	region := s.Region
	if region == "" {
		region = fallbackRegion
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("property \"region\" is not set and no region was found in the URL or the AWS environment")
	}
	if s.RoleARN != "" {
		stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) {
			if s.STSEndpoint != "" {
				o.BaseEndpoint = aws.String(s.STSEndpoint)
			}
		})
		provider := stscreds.NewAssumeRoleProvider(stsClient, s.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = s.SessionName
			if s.ExternalID != "" {
				o.ExternalID = aws.String(s.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return cfg, nil
}
