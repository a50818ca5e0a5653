# The nodes' role: exactly the actions floatip's aws provider calls for this mechanism
# (permissions.json, kept equal to permissionsFor() by test/unit/terraform-permissions.test.ts),
# each write action scoped to this pair's own resources.

locals {
  permissions  = jsondecode(file("${path.module}/permissions.json"))
  iam_actions  = local.permissions.actions[var.mechanism][var.release_on_leave ? "release" : "keep"]
  read_actions = [for a in local.iam_actions : a if length(local.permissions.resource_types[a]) == 0]
  write_actions = [
    for a in local.iam_actions : a if length(local.permissions.resource_types[a]) > 0
  ]

  # "arn:PARTITION:ec2:REGION:ACCOUNT" of this pair, read off an interface's ARN so the module
  # needs no data source for partition, region or account.
  arn_parts  = split(":", aws_network_interface.node[0].arn)
  arn_prefix = join(":", slice(local.arn_parts, 0, 5))
  region     = local.arn_parts[3]

  # Every resource type permissions.json names must have an entry here (the unit test checks).
  arns_by_type = {
    "elastic-ip"        = local.eip_allocation_id == null ? [] : ["${local.arn_prefix}:elastic-ip/${local.eip_allocation_id}"]
    "instance"          = aws_instance.node[*].arn
    "network-interface" = aws_network_interface.node[*].arn
    "route-table"       = [for id in var.route_table_ids : "${local.arn_prefix}:route-table/${id}"]
  }

  policy = {
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid      = "ReadBack"
        Effect   = "Allow"
        Action   = local.read_actions
        Resource = "*"
        # Describe* take no resource ARNs; ec2:Region is the one condition key they document.
        Condition = { StringEquals = { "ec2:Region" = local.region } }
      }],
      [for a in local.write_actions : {
        Sid      = replace(a, "ec2:", "")
        Effect   = "Allow"
        Action   = a
        Resource = sort(flatten([for t in local.permissions.resource_types[a] : local.arns_by_type[t]]))
      }],
    )
  }
}

resource "aws_iam_role" "node" {
  name        = "${var.name}-floatip"
  description = "floatip nodes of ${var.name} (${var.mechanism})"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ec2.amazonaws.com" }
    }]
  })
  tags = var.tags
}

# Attached after the instances exist (it names them). floatip exits at start while the policy is
# not in effect yet, and systemd restarts it (templates/floatip.service).
resource "aws_iam_role_policy" "node" {
  name   = "floatip-${var.mechanism}"
  role   = aws_iam_role.node.id
  policy = jsonencode(local.policy)
}
