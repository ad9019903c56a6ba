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

// Names are the property names of one use of the AWS settings. Plugins
// share the settings and the code that turns them into a client; a plugin
// whose users already name a setting otherwise (the redshift output's
// s3_region) keeps that name.
type Names struct {
	Region, Endpoint, RoleARN, ExternalID, SessionName, STSEndpoint string
}

// Use declares the AWS properties of one plugin: their names, what region
// and endpoint mean there, and the session name's default.
type Use struct {
	Names
	RegionMeaning, EndpointMeaning string
	Prefix                         string // put before every meaning, e.g. "copy: "
	SessionDefault                 string
}

// Queue is the use of the SQS plugins.
var Queue = Use{
	Names:           Names{"region", "endpoint", "role_arn", "external_id", "role_session_name", "sts_endpoint"},
	RegionMeaning:   "AWS region; default: the region in the queue URL, else the AWS environment (AWS_REGION, shared config).",
	EndpointMeaning: "Custom service endpoint URL, e.g. a local emulator; default: AWS_ENDPOINT_URL_<SERVICE> or the AWS endpoint.",
	SessionDefault:  "whirlpool",
}

// Properties are the SQS plugins' AWS properties.
var Properties = Queue.Properties()

// Properties declares the use's properties, in README order.
func (u Use) Properties() props.Set {
	return props.Set{
		{Name: u.Region, Type: props.String, Meaning: u.Prefix + u.RegionMeaning},
		{Name: u.Endpoint, Type: props.URL, Meaning: u.Prefix + u.EndpointMeaning},
		{Name: u.RoleARN, Type: props.String, Meaning: u.Prefix + "IAM role to assume (STS AssumeRole) with the default credentials."},
		{Name: u.ExternalID, Type: props.String, Meaning: u.Prefix + "External ID for " + u.RoleARN + ".", Secret: true},
		{Name: u.SessionName, Type: props.String, Default: u.SessionDefault, Meaning: u.Prefix + "Session name for " + u.RoleARN + "."},
		{Name: u.STSEndpoint, Type: props.URL, Meaning: u.Prefix + "Custom STS endpoint URL for " + u.RoleARN + "."},
	}
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

// Read reads the use's properties from a plugin's reader (its set must
// include u.Properties()). Problems are recorded on r, so that the plugin
// reports them with its own in one error.
func (u Use) Read(r *props.Reader) Settings {
	return Settings{
		Region:      r.String(u.Region),
		Endpoint:    r.URL(u.Endpoint),
		RoleARN:     r.String(u.RoleARN),
		ExternalID:  r.String(u.ExternalID),
		SessionName: r.String(u.SessionName),
		STSEndpoint: r.URL(u.STSEndpoint),
	}
}

// Read reads the SQS plugins' AWS properties (Queue).
func Read(r *props.Reader) Settings { return Queue.Read(r) }

var regionRe = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-\d+$`)

// ValidRegion reports whether s has the shape of an AWS region code
// (eu-west-1, us-gov-west-1, cn-north-1, eusc-de-east-1). It does not check that the
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
//	sqs-fips.REGION.amazonaws.com        (FIPS; sqs-fips.REGION.api.aws dualstack)
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
	// From the right: the region follows a bucket or endpoint-ID label,
	// which may itself look like a region (a bucket named logs-eu-west-1).
	labels := strings.Split(host, ".")
	for i := len(labels) - 1; i >= 0; i-- {
		// s3-REGION is the dash form of old S3 website and path endpoints.
		label := strings.TrimPrefix(labels[i], "s3-")
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
