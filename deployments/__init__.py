"""Deployments of every registered obligation: served locally or declared in prefect.yaml."""
