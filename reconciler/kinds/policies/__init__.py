"""Release policies (beta): `pipelines/<projectKey>/release-policies/<policyKey>.yaml`."""
