output "instance_ids" {
  description = "Instance ids of node a and node b."
  value       = aws_instance.node[*].id
}

output "network_interface_ids" {
  description = "Primary network interface ids of node a and node b: the holder ids floatip logs and EC2 shows."
  value       = aws_network_interface.node[*].id
}

output "private_ips" {
  description = "Primary private IPs of node a and node b (the VRRP unicast source and peer addresses)."
  value       = aws_network_interface.node[*].private_ip
}

output "security_group_id" {
  description = "The group that allows VRRP between the two nodes and nothing else."
  value       = aws_security_group.vrrp.id
}

output "iam_role_name" {
  description = "The nodes' IAM role."
  value       = aws_iam_role.node.name
}

output "iam_role_arn" {
  description = "ARN of the nodes' IAM role."
  value       = aws_iam_role.node.arn
}

output "instance_profile_name" {
  description = "The instance profile carrying the role."
  value       = aws_iam_instance_profile.node.name
}

output "iam_actions" {
  description = "The IAM actions the role allows: permissionsFor() of this mechanism."
  value       = local.iam_actions
}

output "iam_policy_json" {
  description = "The role's inline policy."
  value       = jsonencode(local.policy)
}

output "eip_allocation_id" {
  description = "eip: allocation id of the floating Elastic IP; null otherwise."
  value       = local.eip_allocation_id
}

output "eip_public_ip" {
  description = "eip: the floating public address; null otherwise."
  value       = local.eip_public_ip
}

output "virtual_ip" {
  description = "The address in the VRRP adverts: the Elastic IP's public address for eip, virtual_ip otherwise."
  value       = local.vrrp_address
}

output "floatip_configs" {
  description = "/etc/floatip/floatip.yaml of node a and node b."
  value       = local.floatip_configs
}
