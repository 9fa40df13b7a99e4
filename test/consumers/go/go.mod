module consumer

go 1.26.0

require (
	github.com/aws/aws-cdk-go/awscdk/v2 v2.276.0
	github.com/aws/constructs-go/constructs/v10 v10.8.1
	github.com/aws/jsii-runtime-go v1.142.0
	github.com/cdk-proton-cancel-pipeline-deployment/cdk-proton-cancel-pipeline-deployment-go/cdkprotoncancelpipelinedeployment v0.1.0
)

require (
	github.com/Masterminds/semver/v3 v3.5.0 // indirect
	github.com/cdklabs/awscdk-asset-awscli-go/awscliv1/v2 v2.2.292 // indirect
	github.com/cdklabs/awscdk-asset-node-proxy-agent-go/nodeproxyagentv6/v2 v2.1.3 // indirect
	github.com/cdklabs/cloud-assembly-schema-go/awscdkcloudassemblyschema/v55 v55.6.0 // indirect
)

// The module jsii-pacmak generated (npm run package), not a published one.
replace github.com/cdk-proton-cancel-pipeline-deployment/cdk-proton-cancel-pipeline-deployment-go/cdkprotoncancelpipelinedeployment => ../../../dist/go/cdkprotoncancelpipelinedeployment
