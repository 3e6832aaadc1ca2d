"""The security properties the service relies on, read from the templates: no keys anywhere."""

from __future__ import annotations

import re

from tests.infra.bicep import INFRA, Template, config, main


def _only(template: Template, type_: str) -> dict[str, object]:
    resources = template.resources(type_)
    assert len(resources) == 1, f"{type_}: {sorted(resources)}"
    return config(next(iter(resources.values())))


def test_storage_refuses_shared_keys_and_public_blobs() -> None:
    account = _only(main().module("storage"), "Microsoft.Storage/storageAccounts")
    properties = account["properties"]

    assert properties["allowSharedKeyAccess"] is False
    assert properties["allowBlobPublicAccess"] is False
    assert properties["minimumTlsVersion"] == "TLS1_2"
    assert properties["supportsHttpsTrafficOnly"] is True


def test_containers_are_private() -> None:
    storage = main().module("storage")
    containers = storage.resources("Microsoft.Storage/storageAccounts/blobServices/containers")

    assert containers
    assert all(config(c)["properties"]["publicAccess"] == "None" for c in containers.values())


def test_inputs_are_deleted_after_the_retention_period() -> None:
    storage = main().module("storage")
    policy = _only(storage, "Microsoft.Storage/storageAccounts/managementPolicies")
    (rule,) = storage.resolve(policy["properties"]["policy"]["rules"])

    assert rule["definition"]["filters"]["prefixMatch"] == ["inputs/"]
    assert rule["definition"]["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == 7


def test_cosmos_refuses_keys() -> None:
    account = _only(main().module("cosmos"), "Microsoft.DocumentDB/databaseAccounts")

    assert account["properties"]["disableLocalAuth"] is True
    assert account["properties"]["disableKeyBasedMetadataWriteAccess"] is True


def test_cosmos_is_serverless_by_default() -> None:
    cosmos = main().module("cosmos")
    account = _only(cosmos, "Microsoft.DocumentDB/databaseAccounts")

    assert cosmos.resolve("capacityMode") == "serverless"
    assert "EnableServerless" in str(account["properties"]["capabilities"])


def test_key_vault_uses_rbac_and_purge_protection() -> None:
    vault = _only(main().module("keyVault"), "Microsoft.KeyVault/vaults")

    assert vault["properties"]["enableRbacAuthorization"] is True
    assert vault["properties"]["enablePurgeProtection"] is True


def test_application_insights_takes_entra_auth_only() -> None:
    component = _only(main().module("monitor"), "Microsoft.Insights/components")

    assert component["properties"]["DisableLocalAuth"] is True


def test_function_app_is_locked_down() -> None:
    api = main().module("api")
    site = _only(api, "Microsoft.Web/sites")
    properties = site["properties"]
    site_config = properties["siteConfig"]

    assert site["identity"]["type"] == "UserAssigned"
    assert properties["httpsOnly"] is True
    assert site_config["minTlsVersion"] == "1.2"
    assert site_config["ftpsState"] == "Disabled"
    assert site_config["remoteDebuggingEnabled"] is False
    function_config = properties["functionAppConfig"]
    assert function_config["runtime"] == {"name": "python", "version": "3.13"}
    assert set(function_config["scaleAndConcurrency"]) >= {"maximumInstanceCount", "instanceMemoryMB"}
    assert function_config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    plan = _only(api, "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}


def test_secret_parameters_are_secure() -> None:
    for template in (main(), main().module("keyVault"), main().module("eventGrid")):
        for name, parameter in template.data["parameters"].items():
            if re.search(r"ApiKey$|Url$", name) and "Reference" not in name and "Base" not in name:
                decorators = [d["type"] for d in parameter["decorators"]]
                assert "secure" in decorators, f"{template.path.name}: {name}"


def test_every_role_assignment_is_named_by_scope_principal_and_role() -> None:
    for path in (INFRA / "app" / "rbac.bicep", INFRA / "app" / "openai-access.bicep"):
        template = Template(path)
        text = path.read_text()
        assignments = {
            **template.resources("Microsoft.Authorization/roleAssignments"),
            **template.resources("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"),
        }
        assert assignments
        for name, resource in assignments.items():
            guid = config(resource)["name"]["function"]
            assert guid["type"] == "guid", name
            scope, principal, role = guid["parameters"].values()
            assert principal.endswith("PrincipalId"), name
            # The role id is a variable whose declaration is preceded by a comment naming the role.
            declaration = re.search(rf"//\s*(.+)\nvar {role} = '([0-9a-f-]{{36}})'", text)
            assert declaration, f"{name}: role {role} has no named declaration"
            assert scope


def test_the_roles_the_app_needs_are_assigned() -> None:
    text = (INFRA / "app" / "rbac.bicep").read_text()

    for role in (
        "Storage Blob Data Owner",
        "Storage Queue Data Contributor",
        "Key Vault Secrets User",
        "Monitoring Metrics Publisher",
        "Cosmos DB Built-in Data Contributor",
    ):
        assert f"// {role}" in text
    assert "// Cognitive Services OpenAI User" in (INFRA / "app" / "openai-access.bicep").read_text()
