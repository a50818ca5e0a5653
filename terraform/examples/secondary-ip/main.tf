# A private VIP (secondary private IP) that moves between two nodes of one subnet.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

provider "aws" {
  region = var.region
}

variable "region" { type = string }
variable "vpc_id" { type = string }
variable "subnet_id" { type = string }  # both nodes: a private IP belongs to one subnet
variable "virtual_ip" { type = string } # a free address of that subnet, e.g. 10.0.1.50
variable "ami_id" { type = string }

resource "aws_security_group" "egress" {
  name   = "db-egress"
  vpc_id = var.vpc_id
  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

module "pair" {
  source = "../../modules/aws-floatip-pair"

  name                          = "db"
  vpc_id                        = var.vpc_id
  subnet_ids                    = [var.subnet_id, var.subnet_id]
  ami_id                        = var.ami_id
  mechanism                     = "secondary-ip"
  virtual_ip                    = var.virtual_ip
  advert_interval               = "200ms"
  additional_security_group_ids = [aws_security_group.egress.id]
  install_commands              = ["dnf install -y nodejs20 nodejs20-npm gcc-c++ make python3"]
}

output "virtual_ip" {
  value = module.pair.virtual_ip
}
