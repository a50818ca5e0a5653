variable "name" {
  description = "Name of the pair: prefix of every resource name, the VRRP instance name and the nodes' router_id (NAME-a, NAME-b)."
  type        = string

  validation {
    # IAM role names are at most 64 characters; "-floatip" is appended.
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,39}$", var.name))
    error_message = "name must start with a letter and hold at most 40 letters, digits and dashes (it names IAM roles and goes into the floatip YAML)."
  }
}

variable "vpc_id" {
  description = "VPC of the two nodes."
  type        = string
}

variable "subnet_ids" {
  description = "Subnet of node a and node b, in that order. Two different subnets (usually two AZs) for eip and route; the same subnet twice for secondary-ip, because a private IP belongs to one subnet."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) == 2
    error_message = "subnet_ids must list exactly two subnet ids, node a's then node b's (the same id twice is fine)."
  }
}

variable "ami_id" {
  description = "AMI of both nodes: Linux with systemd and cloud-init. Node.js >= 20.11 with npm must be on it or be installed by install_commands."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type of both nodes."
  type        = string
  default     = "t3.small"
}

variable "key_name" {
  description = "EC2 key pair for SSH; null for none."
  type        = string
  default     = null
}

variable "mechanism" {
  description = "How the address moves: eip (Elastic IP), secondary-ip (secondary private IP) or route (route table entries). See docs/aws.md."
  type        = string

  validation {
    condition     = contains(["eip", "secondary-ip", "route"], var.mechanism)
    error_message = "mechanism must be one of eip, secondary-ip, route."
  }
}

variable "virtual_ip" {
  description = "The floating private IPv4 address for secondary-ip (inside the subnet) and route (usually outside the VPC CIDR). Leave null for eip: the Elastic IP's public address is the VRRP address."
  type        = string
  default     = null

  validation {
    condition     = var.virtual_ip == null || can(regex("^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$", var.virtual_ip))
    error_message = "virtual_ip must be an IPv4 address without a prefix, e.g. 10.0.1.50."
  }
}

variable "reserve_virtual_ip" {
  description = "secondary-ip only: reserve virtual_ip/32 in the subnet (an explicit subnet CIDR reservation) so EC2 never hands it to another network interface."
  type        = bool
  default     = true
}

variable "route_table_ids" {
  description = "route only: the route tables whose entries for route_destinations point at the master's network interface."
  type        = list(string)
  default     = []
}

variable "route_destinations" {
  description = "route only: destination CIDRs to steer; empty means [\"VIRTUAL_IP/32\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.route_destinations : can(cidrhost(c, 0)) && !strcontains(c, ":")])
    error_message = "route_destinations must be IPv4 CIDRs such as 10.0.1.50/32."
  }
}

variable "create_eip" {
  description = "eip only: allocate a new Elastic IP for the pair. Set false and give eip_allocation_id to use an existing one."
  type        = bool
  default     = true
}

variable "eip_allocation_id" {
  description = "eip only: allocation id (eipalloc-...) of an existing Elastic IP, with create_eip = false."
  type        = string
  default     = null

  validation {
    condition     = var.eip_allocation_id == null || can(regex("^eipalloc-([0-9a-f]{8}|[0-9a-f]{17})$", var.eip_allocation_id))
    error_message = "eip_allocation_id must look like eipalloc-0123456789abcdef0."
  }
}

variable "release_on_leave" {
  description = "Give the address back on leaving MASTER: eip's detach_on_release, secondary-ip's unassign_on_release (route never withdraws a route). false also drops ec2:DisassociateAddress / ec2:UnassignPrivateIpAddresses from the policy."
  type        = bool
  default     = true
}

variable "vrid" {
  description = "VRRP virtual router id (1..255), unique among VRRP groups that can hear each other."
  type        = number
  default     = 51

  validation {
    condition     = var.vrid >= 1 && var.vrid <= 255 && floor(var.vrid) == var.vrid
    error_message = "vrid must be a whole number in 1..255."
  }
}

variable "priorities" {
  description = "VRRP priority of node a and node b. The higher one is master when both are up."
  type        = list(number)
  default     = [150, 100]

  validation {
    # 255 means "address owner" in VRRP, which neither node is.
    condition     = length(var.priorities) == 2 && alltrue([for p in var.priorities : p >= 1 && p <= 254 && floor(p) == p])
    error_message = "priorities must be two whole numbers in 1..254, node a's then node b's."
  }
}

variable "advert_interval" {
  description = "VRRP advertisement interval (VRRPv3: 10 ms steps), e.g. \"1s\" or \"200ms\". A dead master is noticed after about 3 intervals."
  type        = string
  default     = "1s"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?(ms|s)$", var.advert_interval))
    error_message = "advert_interval must be a duration such as 1s, 0.5s or 200ms."
  }
}

variable "interface_name" {
  description = "The nodes' network interface as the OS names it (ens5 on Nitro instances with Amazon Linux 2023 or Ubuntu)."
  type        = string
  default     = "ens5"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,15}$", var.interface_name))
    error_message = "interface_name must be a Linux interface name: 1..15 letters, digits, '_', '.', '-'."
  }
}

variable "floatip_package" {
  description = "What `npm install --global` installs on each node: a registry name with an optional version, a tarball URL or a git URL."
  type        = string
  default     = "floatip"
}

variable "install_commands" {
  description = "Shell commands cloud-init runs before installing floatip, e.g. to install Node.js 20+ and the build tools the native modules need."
  type        = list(string)
  default     = []
}

variable "additional_security_group_ids" {
  description = "More security groups for both nodes. The module's own group allows only VRRP between the nodes; the nodes also need outbound HTTPS to the EC2 API (and to npm while booting), given here."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}
