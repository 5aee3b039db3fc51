"""Training losses (SAM / SAM2 style): sigmoid focal + dice on masks, MSE on the IoU predictions.

Weights as in SAM2's training config: focal x 20, dice x 1, IoU x 1. The decoder's low-res logits (S/4) are compared
either with the area-averaged ground truth at S/4 (train.py --loss-res low, the default: 16x cheaper) or, upsampled
bilinearly to S first, with the full-resolution ground truth (--loss-res full: exactly the mask Meta's predictor
thresholds). MR's output is always compared at S.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FOCAL_W, DICE_W, IOU_W = 20.0, 1.0, 1.0
# Focal alpha 0.5 (balanced), not SAM's 0.25: targets here cover 1-15 % of the image and the schedule is a few hundred
# steps; with 0.25 the background term drove every mask to empty for the first 100+ steps (IoU 0.0003 at step 100,
# 0.014 vs 0.12 after 10 steps of overfitting one batch).
ALPHA = 0.5


def focal(logits: torch.Tensor, gt: torch.Tensor, alpha: float = ALPHA, gamma: float = 2.0) -> torch.Tensor:
    """Per-mask mean sigmoid focal loss. logits/gt [N, M, H, W] -> [N, M]."""
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, gt, reduction="none")
    pt = p * gt + (1 - p) * (1 - gt)
    loss = ce * (1 - pt) ** gamma
    loss = (alpha * gt + (1 - alpha) * (1 - gt)) * loss
    return loss.flatten(2).mean(-1)


def dice(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits).flatten(2)
    g = gt.flatten(2)
    return 1 - (2 * (p * g).sum(-1) + 1) / (p.sum(-1) + g.sum(-1) + 1)


# "focal": SAM2's focal x 20 + dice x 1. "bce-dice": mean BCE + dice, 1:1 (MedSAM-style), which does not let the
# background term push every logit below 0 on small targets.
MASK_LOSS = "focal"


def mask_terms(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-mask loss [N, M] of logits/gt [N, M, H, W] under MASK_LOSS."""
    if MASK_LOSS == "bce-dice":
        bce = F.binary_cross_entropy_with_logits(logits, gt, reduction="none").flatten(2).mean(-1)
        return bce + dice(logits, gt)
    return FOCAL_W * focal(logits, gt) + DICE_W * dice(logits, gt)


def iou_of(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """IoU of the thresholded masks (no gradient), [N, M]."""
    with torch.no_grad():
        p = (logits > 0).flatten(2).float()
        g = (gt >= 0.5).flatten(2).float()
        inter = (p * g).sum(-1)
        union = p.sum(-1) + g.sum(-1) - inter
        return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter))


def upsample(low: torch.Tensor, S: int) -> torch.Tensor:
    return F.interpolate(low, size=(S, S), mode="bilinear", align_corners=False)


def decoder_loss(masks: torch.Tensor, iou_pred: torch.Tensor, gt: torch.Tensor, multimask: bool):
    """masks [N, 4, L, L] (token 0 = single-mask output, 1-3 = multimask), iou_pred [N, 4], gt [N, 1, S, S]
    (the logits are upsampled to S first) or gt [N, 1, L, L] (soft, area-averaged: the loss at the logits' own
    resolution, 16x cheaper).
    Single clicks (multimask): SAM's min over tokens 1-3, plus token 0, which the predictor returns for a single
    click without --multimask unless its stability test fails. Other prompts: token 0 only.
    Returns (loss, IoU of token 0 [N])."""
    up = masks if gt.shape[-1] == masks.shape[-1] else upsample(masks, gt.shape[-1])
    gtm = gt.expand_as(up)
    per = mask_terms(up, gtm)          # [N, 4]
    ious = iou_of(up, gtm)
    if multimask:
        mask_loss = per[:, 1:].min(dim=1).values + per[:, 0]
        iou_loss = F.mse_loss(iou_pred, ious, reduction="none").mean(1)
    else:
        mask_loss = per[:, 0]
        iou_loss = F.mse_loss(iou_pred[:, 0], ious[:, 0], reduction="none")
    return (mask_loss + IOU_W * iou_loss).mean(), ious[:, 0]


def full_loss(logits: torch.Tensor, gt: torch.Tensor):
    """The refined mask at S: [N, 1, S, S]. Returns (loss, IoU [N])."""
    per = mask_terms(logits, gt)
    return per.mean(), iou_of(logits, gt)[:, 0]
