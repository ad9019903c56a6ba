package sqs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/whirlpool-events/whirlpool/internal/awsconf"
)

// newClient builds the SQS client with the suite's AWS settings (package
// awsconf: the default credential chain — environment, shared config and
// credentials files, web identity / IRSA, container and instance roles —
// optionally assuming role_arn through STS). The SDK's own retries are off:
// sendBatch owns every resend, so each one is bounded, counted and only for
// what failed.
func newClient(ctx context.Context, c *Config) (*sqs.Client, string, error) {
	cfg, err := c.AWS.Config(ctx, awsconf.RegionFromURL(c.QueueURL))
	if err != nil {
		return nil, "", err
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if c.AWS.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.AWS.Endpoint)
		}
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(requestTimeout)
	})
	return client, cfg.Region, nil
}
